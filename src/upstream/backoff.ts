/**
 * Reconnect back-off per gRPC's connection-backoff.md: each attempt has a
 * deadline `backoff` after it started; the next attempt starts at that
 * deadline (at once if the attempt took longer), and `backoff` grows by
 * MULTIPLIER up to MAX_BACKOFF. An attempt may take up to
 * max(deadline - start, MIN_CONNECT_TIMEOUT) to connect.
 *
 * Unlike the pseudo-code there, the first step is jittered too (as in
 * grpc-core), so proxies that lose the same backend at once do not retry in
 * lockstep. The clock and the random source are injected for tests.
 */

export interface BackoffPolicy {
  readonly initialMs: number;
  readonly multiplier: number;
  readonly maxMs: number;
  /** Each step is scaled by a uniform factor in [1 - jitter, 1 + jitter]. */
  readonly jitter: number;
  /** The cluster's `connect_timeout`: no attempt gets less time to connect. */
  readonly minConnectTimeoutMs: number;
}

/** The constants of connection-backoff.md (MIN_CONNECT_TIMEOUT comes from the cluster). */
export const GRPC_BACKOFF: Omit<BackoffPolicy, 'minConnectTimeoutMs'> = {
  initialMs: 1_000,
  multiplier: 1.6,
  maxMs: 120_000,
  jitter: 0.2,
};

export interface BackoffClock {
  /** Milliseconds on a monotonic clock. */
  now(): number;
}

export interface BackoffAttempt {
  /** When the attempt started, on the back-off's clock. */
  readonly startedAt: number;
  /** The (jittered) step of the sequence this attempt used. */
  readonly stepMs: number;
  /** The next attempt is due then (if this one fails). */
  readonly retryAt: number;
  /** How long this attempt may take to connect. */
  readonly connectTimeoutMs: number;
}

export class ConnectionBackoff {
  readonly policy: BackoffPolicy;
  readonly #clock: BackoffClock;
  readonly #random: () => number;
  /** The un-jittered current_backoff; undefined when no sequence is running. */
  #backoffMs: number | undefined;
  #attempts = 0;

  constructor(
    policy: BackoffPolicy,
    options: { readonly clock?: BackoffClock; readonly random?: () => number } = {},
  ) {
    this.policy = policy;
    this.#clock = options.clock ?? { now: () => performance.now() };
    this.#random = options.random ?? Math.random;
  }

  /**
   * Counts an attempt that started at `startedAt` (default: now) as the next
   * of the sequence, and says when the one after it is due.
   */
  beginAttempt(startedAt: number = this.#clock.now()): BackoffAttempt {
    const { initialMs, multiplier, maxMs, jitter, minConnectTimeoutMs } = this.policy;
    this.#backoffMs =
      this.#backoffMs === undefined ? initialMs : Math.min(this.#backoffMs * multiplier, maxMs);
    this.#attempts++;
    const spread = jitter * this.#backoffMs;
    const stepMs = this.#backoffMs + (this.#random() * 2 - 1) * spread;
    return {
      startedAt,
      stepMs,
      retryAt: startedAt + stepMs,
      connectTimeoutMs: Math.max(stepMs, minConnectTimeoutMs),
    };
  }

  /** Milliseconds from now until `attempt`'s successor is due (0 if overdue). */
  delayUntilRetry(attempt: BackoffAttempt): number {
    return Math.max(0, attempt.retryAt - this.#clock.now());
  }

  /**
   * The connect timeout of an attempt made outside a back-off sequence (a
   * healthy endpoint opening a session on demand): as the first attempt's,
   * without jitter.
   */
  get firstConnectTimeoutMs(): number {
    return Math.max(this.policy.initialMs, this.policy.minConnectTimeoutMs);
  }

  /** Attempts counted since the last reset. */
  get attempts(): number {
    return this.#attempts;
  }

  /** A connection succeeded: the next failure starts from INITIAL_BACKOFF again. */
  reset(): void {
    this.#backoffMs = undefined;
    this.#attempts = 0;
  }
}
