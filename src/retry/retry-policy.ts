/**
 * A route's `retry:` policy, compiled once per config load: which failures
 * are retried, how many attempts a call may make, how long each may wait to
 * be committed, the back-off between attempts, and the request bytes kept
 * for replay. Pure: the call (src/proxy) decides when to ask, the cluster's
 * budget (src/breaker) whether a retry may run now.
 */
import { requireByteSize } from '../config/byte-size.js';
import { DEFAULTS, type RetryPolicyConfig } from '../config/schema.js';
import { requireDuration } from '../config/duration.js';
import type { ProxyError, ProxyErrorCode } from '../errors/proxy-error.js';
import { parseGrpcStatusConfigName } from '../grpc/status.js';
import { fullJitterBackoffMs } from './full-jitter.js';

/** Upstream failures named by their own condition in `retry_on`. */
const ERROR_CONDITIONS: Partial<Record<ProxyErrorCode, string>> = {
  upstream_connect_failed: 'connect-failure',
  upstream_refused_stream: 'refused-stream',
  upstream_connection_lost: 'reset',
  upstream_reset: 'reset',
  upstream_cancelled: 'reset',
  upstream_overloaded: 'reset',
};

export class RetryPolicy {
  readonly maxAttempts: number;
  /** Undefined: an attempt may wait for its reply as long as the call's deadline allows. */
  readonly perTryTimeoutMs: number | undefined;
  readonly backoffBaseMs: number;
  readonly backoffMaxMs: number;
  readonly bufferLimit: number;
  readonly holdMs: number;
  readonly #statuses = new Set<number>();
  readonly #conditions = new Set<string>();

  constructor(config: RetryPolicyConfig) {
    for (const name of config.retry_on ?? DEFAULTS.retryOn) {
      const status = parseGrpcStatusConfigName(name);
      if (status === undefined) this.#conditions.add(name);
      else this.#statuses.add(status);
    }
    this.maxAttempts = config.max_attempts ?? DEFAULTS.maxAttempts;
    this.perTryTimeoutMs =
      config.per_try_timeout === undefined ? undefined : requireDuration(config.per_try_timeout);
    this.backoffBaseMs = requireDuration(config.backoff?.base ?? DEFAULTS.retryBackoffBase);
    this.backoffMaxMs = requireDuration(config.backoff?.max ?? DEFAULTS.retryBackoffMax);
    this.bufferLimit = requireByteSize(config.buffer_limit ?? DEFAULTS.retryBufferLimit);
    this.holdMs = requireDuration(config.hold ?? DEFAULTS.retryHold);
  }

  /** A reply whose status (trailers-only headers, or trailers before any message) this retries. */
  retriesStatus(grpcStatus: number): boolean {
    return this.#statuses.has(grpcStatus);
  }

  /**
   * An upstream failure this retries: by its own condition (`reset`,
   * `connect-failure`, `refused-stream`) or by the status the client would
   * see. Only failures of the upstream attempt qualify; the proxy's own
   * limits and the client's deadline are never retried. A per-try timeout
   * always is: that is what the timeout is for.
   */
  retriesError(error: ProxyError): boolean {
    if (error.code === 'upstream_timeout') return true;
    if (!error.code.startsWith('upstream_')) return false;
    const condition = ERROR_CONDITIONS[error.code];
    if (condition !== undefined && this.#conditions.has(condition)) return true;
    return this.#statuses.has(error.grpcStatus);
  }

  /** Back-off before retry `n` (1 for the first retry); `random` returns [0, 1). */
  backoffMs(n: number, random: () => number): number {
    return fullJitterBackoffMs(n, this.backoffBaseMs, this.backoffMaxMs, random);
  }
}
