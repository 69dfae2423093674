/**
 * A set of failures in config spelling (`retry_on`, `non_fatal_on`): gRPC
 * status names, and three upstream failures by their own name. A listed
 * status also matches the proxy's upstream failures with that status
 * (`unavailable` matches a lost connection). Only failures of an upstream
 * attempt qualify: the proxy's own limits, the client's deadline and a
 * client cancel never do. A per-try timeout always does.
 */
import type { ProxyError, ProxyErrorCode } from '../errors/proxy-error.js';
import { parseGrpcStatusConfigName } from '../grpc/status.js';

const ERROR_CONDITIONS: Partial<Record<ProxyErrorCode, string>> = {
  upstream_connect_failed: 'connect-failure',
  upstream_refused_stream: 'refused-stream',
  upstream_connection_lost: 'reset',
  upstream_reset: 'reset',
  upstream_cancelled: 'reset',
  upstream_overloaded: 'reset',
};

export class FailureConditions {
  readonly #statuses = new Set<number>();
  readonly #conditions = new Set<string>();

  constructor(names: readonly string[]) {
    for (const name of names) {
      const status = parseGrpcStatusConfigName(name);
      if (status === undefined) this.#conditions.add(name);
      else this.#statuses.add(status);
    }
  }

  /** A reply's status (trailers-only headers, or trailers before any message) is listed. */
  matchesStatus(grpcStatus: number): boolean {
    return this.#statuses.has(grpcStatus);
  }

  /** An upstream failure is listed, by its own condition or by its status. */
  matchesError(error: ProxyError): boolean {
    if (error.code === 'upstream_timeout') return true;
    if (!error.code.startsWith('upstream_')) return false;
    const condition = ERROR_CONDITIONS[error.code];
    if (condition !== undefined && this.#conditions.has(condition)) return true;
    return this.#statuses.has(error.grpcStatus);
  }
}
