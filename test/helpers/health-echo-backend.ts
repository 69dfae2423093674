/**
 * An echo backend that also serves grpc.health.v1.Health, with the handle
 * that sets what its health service answers. Closed when the test ends.
 */
import type { TestContext } from './context.js';
import { startEchoBackend, type EchoBackend } from './echo-backend.js';
import { HealthControl } from './health-backend.js';

export interface HealthEchoBackend {
  readonly echo: EchoBackend;
  readonly health: HealthControl;
}

export async function healthBackend(t: TestContext, id: string): Promise<HealthEchoBackend> {
  const health = new HealthControl();
  const echo = await startEchoBackend(id, { services: [health] });
  t.teardown(() => echo.close());
  return { echo, health };
}
