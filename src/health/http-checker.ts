/**
 * `http: { path, expected_statuses, port }`: an HTTP/1.1 GET through undici
 * (HTTPS with the cluster's `tls:` settings when it has them);
 * healthy iff the status is one of `expected_statuses`. The body is read and
 * dropped so the kept-alive connection can be reused by the next check.
 */
import { Agent, request, type buildConnector } from 'undici';
import { parseHostPort } from '../config/host-port.js';
import {
  HEALTHY,
  abortReason,
  unhealthy,
  type CheckResult,
  type CheckTarget,
  type HealthChecker,
} from './checker.js';
import { UPSTREAM_TLS_MIN_VERSION, type UpstreamTlsOptions } from '../upstream/upstream-tls.js';

export interface HttpCheckOptions {
  readonly path: string;
  readonly expectedStatuses: readonly number[];
  /** Probe this port instead of the endpoint's. */
  readonly port?: number | undefined;
  /** The cluster's TLS: probe over HTTPS with it; plain HTTP when undefined. */
  readonly tls?: UpstreamTlsOptions | undefined;
}

export class HttpHealthChecker implements HealthChecker {
  readonly #options: HttpCheckOptions;
  readonly #agent: Agent;

  constructor(options: HttpCheckOptions) {
    this.#options = options;
    const tls = options.tls;
    this.#agent = new Agent({
      connections: 1,
      pipelining: 1,
      ...(tls === undefined ? {} : { connect: undiciTls(tls) }),
    });
  }

  async check(endpoint: CheckTarget, signal: AbortSignal): Promise<CheckResult> {
    const target = parseHostPort(endpoint.address);
    if (target === undefined) return unhealthy(`bad address ${endpoint.address}`);
    const host = target.host.includes(':') ? `[${target.host}]` : target.host;
    const scheme = this.#options.tls === undefined ? 'http' : 'https';
    const url = `${scheme}://${host}:${String(this.#options.port ?? target.port)}${this.#options.path}`;
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

/** undici's connect options for the cluster's TLS (HTTP/1.1: no ALPN h2 here). */
function undiciTls(tls: UpstreamTlsOptions): buildConnector.BuildOptions {
  return {
    ...(tls.ca === undefined ? {} : { ca: tls.ca }),
    ...(tls.cert === undefined ? {} : { cert: tls.cert }),
    ...(tls.key === undefined ? {} : { key: tls.key }),
    ...(tls.serverName === undefined ? {} : { servername: tls.serverName }),
    rejectUnauthorized: tls.verify,
    minVersion: UPSTREAM_TLS_MIN_VERSION,
  };
}
