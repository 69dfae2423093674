/** `tcp: {}`: healthy iff a TCP connection to the endpoint opens within the timeout. */
import net from 'node:net';
import { parseHostPort } from '../config/host-port.js';
import {
  HEALTHY,
  abortReason,
  unhealthy,
  type CheckResult,
  type CheckTarget,
  type HealthChecker,
} from './checker.js';

export class TcpHealthChecker implements HealthChecker {
  check(endpoint: CheckTarget, signal: AbortSignal): Promise<CheckResult> {
    const target = parseHostPort(endpoint.address);
    if (target === undefined) return Promise.resolve(unhealthy(`bad address ${endpoint.address}`));
    if (signal.aborted) return Promise.resolve(unhealthy(abortReason(signal)));
    return new Promise((resolve) => {
      const socket = net.connect({ host: target.host, port: target.port });
      const done = (result: CheckResult): void => {
        signal.removeEventListener('abort', onAbort);
        socket.destroy();
        resolve(result);
      };
      const onAbort = (): void => {
        done(unhealthy(abortReason(signal)));
      };
      signal.addEventListener('abort', onAbort, { once: true });
      socket.once('connect', () => {
        done(HEALTHY);
      });
      socket.once('error', (error) => {
        done(unhealthy(`connect failed: ${error.message}`));
      });
    });
  }

  forget(): void {
    // Nothing cached: every check opens its own connection.
  }

  close(): Promise<void> {
    return Promise.resolve();
  }
}
