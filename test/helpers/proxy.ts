/**
 * Starts a real Switchyard for a test: silent unless SWITCHYARD_TEST_LOG=1
 * (then debug lines go to stderr), closed in the test's teardown.
 */
import { Switchyard, type SwitchyardOptions } from '../../src/app/switchyard.js';
import type {
  ClusterConfig,
  Config,
  EngineName,
  ListenerConfig,
  RouteConfig,
} from '../../src/config/schema.js';
import { validateConfigSchema } from '../../src/config/schema-validator.js';
import { engineOf } from '../../src/engine/engine.js';
import { createLogger, silentLogger, type Logger } from '../../src/log/logger.js';
import type { TestContext } from './context.js';
import { ECHO_SERVICE_NAME } from './echo-proto.js';

export const LISTENER_NAME = 'main';
export const ROUTE_NAME = 'echo';
export const CLUSTER_NAME = 'echo';

export interface RunningProxy {
  readonly proxy: Switchyard;
  /** `127.0.0.1:PORT` of listener `main`. */
  readonly address: string;
}

export interface ProxyConfigOverrides {
  /** Merged into listener `main`. */
  readonly listener?: Partial<ListenerConfig>;
  /** Merged into route `echo`. */
  readonly route?: Partial<RouteConfig>;
  /** Merged into cluster `echo`. */
  readonly cluster?: Partial<ClusterConfig>;
  /** Merged into the whole config last (e.g. extra routes or clusters). */
  readonly config?: Partial<Config>;
}

/**
 * One listener `main` on 127.0.0.1:0, one route `echo` for service
 * `switchyard.test.Echo`, one cluster `echo` over `backends` (host:port each).
 */
export function proxyConfig(
  backends: readonly string[],
  overrides: ProxyConfigOverrides = {},
): Config {
  return {
    listeners: [{ name: LISTENER_NAME, address: '127.0.0.1:0', ...overrides.listener }],
    routes: [
      {
        name: ROUTE_NAME,
        match: { service: ECHO_SERVICE_NAME },
        cluster: CLUSTER_NAME,
        ...overrides.route,
      },
    ],
    clusters: [{ name: CLUSTER_NAME, endpoints: [...backends], ...overrides.cluster }],
    ...overrides.config,
  };
}

/**
 * The HTTP/2 engine the suite runs against: SWITCHYARD_ENGINE, which the
 * proxy itself reads as the default of `engine:` (src/engine/engine.ts), so
 * one suite covers both engines without copies.
 */
export function testEngine(): EngineName {
  return engineOf({ listeners: [], routes: [], clusters: [] });
}

function testLogger(): Logger {
  if (process.env['SWITCHYARD_TEST_LOG'] === '1') {
    return createLogger({ level: 'debug', pretty: false, destination: process.stderr });
  }
  return silentLogger();
}

/**
 * Starts the proxy on a schema-checked config and closes it in `t`'s teardown.
 * `options` go to Switchyard.start (e.g. a DNS resolver); the logger is the test one.
 */
export async function startProxy(
  t: TestContext,
  config: Config,
  options: Omit<SwitchyardOptions, 'logger'> = {},
): Promise<RunningProxy> {
  if (!validateConfigSchema(config)) {
    throw new Error(
      `test config does not match the schema: ${JSON.stringify(validateConfigSchema.errors)}`,
    );
  }
  const proxy = await Switchyard.start(config, { ...options, logger: testLogger() });
  t.teardown(() => proxy.close());
  const { port } = proxy.listenerAddress(LISTENER_NAME);
  return { proxy, address: `127.0.0.1:${port}` };
}
