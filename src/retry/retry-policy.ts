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
import type { ProxyError } from '../errors/proxy-error.js';
import { FailureConditions } from './failure-conditions.js';
import { fullJitterBackoffMs } from './full-jitter.js';

export class RetryPolicy {
  readonly maxAttempts: number;
  /** Undefined: an attempt may wait for its reply as long as the call's deadline allows. */
  readonly perTryTimeoutMs: number | undefined;
  readonly backoffBaseMs: number;
  readonly backoffMaxMs: number;
  readonly bufferLimit: number;
  readonly holdMs: number;
  readonly #retryOn: FailureConditions;

  constructor(config: RetryPolicyConfig) {
    this.#retryOn = new FailureConditions(config.retry_on ?? DEFAULTS.retryOn);
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
    return this.#retryOn.matchesStatus(grpcStatus);
  }

  /** An upstream failure this retries (failure-conditions.ts says which qualify). */
  retriesError(error: ProxyError): boolean {
    return this.#retryOn.matchesError(error);
  }

  /** Back-off before retry `n` (1 for the first retry); `random` returns [0, 1). */
  backoffMs(n: number, random: () => number): number {
    return fullJitterBackoffMs(n, this.backoffBaseMs, this.backoffMaxMs, random);
  }
}
