/**
 * `http: { path, expected_statuses, port }`: an HTTP/1.1 GET through undici;
 * healthy iff the status is one of `expected_statuses`. The body is read and
 * dropped so the kept-alive connection can be reused by the next check.
 */
import { Agent, request } from 'undici';
import { parseHostPort } from '../config/host-port.js';
import {
  HEALTHY,
  abortReason,
  unhealthy,
  type CheckResult,
  type CheckTarget,
  type HealthChecker,
} from './checker.js';

export interface HttpCheckOptions {
  readonly path: string;
  readonly expectedStatuses: readonly number[];
  /** Probe this port instead of the endpoint's. */
  readonly port?: number | undefined;
}

export class HttpHealthChecker implements HealthChecker {
  readonly #options: HttpCheckOptions;
  readonly #agent = new Agent({ connections: 1, pipelining: 1 });

  constructor(options: HttpCheckOptions) {
    this.#options = options;
  }

  async check(endpoint: CheckTarget, signal: AbortSignal): Promise<CheckResult> {
    const target = parseHostPort(endpoint.address);
    if (target === undefined) return unhealthy(`bad address ${endpoint.address}`);
    const host = target.host.includes(':') ? `[${target.host}]` : target.host;
    const url = `http://${host}:${String(this.#options.port ?? target.port)}${this.#options.path}`;
    try {
      const response = await request(url, { method: 'GET', signal, dispatcher: this.#agent });
      await response.body.dump();
      if (this.#options.expectedStatuses.includes(response.statusCode)) return HEALTHY;
      return unhealthy(`HTTP status ${String(response.statusCode)}`);
    } catch (error) {
      if (signal.aborted) return unhealthy(abortReason(signal));
      return unhealthy(`request failed: ${error instanceof Error ? error.message : String(error)}`);
    }
  }

  forget(): void {
    // The agent closes idle connections on its own.
  }

  async close(): Promise<void> {
    await this.#agent.destroy();
  }
}
