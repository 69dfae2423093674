/**
 * The route's `retry:` policy at work for one call: a failure in
 * `retry_on` gives the attempt up and, after a full-jitter back-off (or the
 * backend's pushback), opens another on an endpoint not tried yet — while
 * attempts, the deadline and the cluster's retry budget allow
 * (src/retry/call-retries.ts decides). While a retry is still possible the
 * response headers are held, for at most `hold`.
 */
import type { Pushback } from '../grpc/retry-pushback.js';
import type { CallRetries } from '../retry/call-retries.js';
import type { ActionableFailure, AttemptControl, AttemptStrategy } from './attempt-strategy.js';
import type { UpstreamAttempt } from './upstream-attempt.js';

export class RetryStrategy implements AttemptStrategy {
  readonly #retries: CallRetries;
  readonly #control: AttemptControl;

  constructor(retries: CallRetries, control: AttemptControl) {
    this.#retries = retries;
    this.#control = control;
  }

  get retries(): number {
    return this.#retries.retries;
  }

  get perTryTimeoutMs(): number | undefined {
    return this.#retries.policy.perTryTimeoutMs;
  }

  previousAttempts(): number {
    return this.#retries.retries;
  }

  started(): void {
    // The first attempt needs nothing armed: retries follow failures.
  }

  holdMs(now: number): number | undefined {
    const possible =
      this.#control.replayable() && this.#retries.possible(now, this.#control.deadline());
    return possible ? this.#retries.policy.holdMs : undefined;
  }

  recover(attempt: UpstreamAttempt, failure: ActionableFailure, pushback: Pushback): boolean {
    const policy = this.#retries.policy;
    const retryable =
      failure.kind === 'reply'
        ? policy.retriesStatus(failure.grpcStatus)
        : policy.retriesError(failure.error);
    if (!retryable) return false;
    const delayMs = this.#retries.next(pushback, performance.now(), this.#control.deadline());
    if (typeof delayMs !== 'number') return false;
    this.#control.giveUp(attempt, failure, 'retry');
    this.#control.after(delayMs, () => {
      if (!this.#control.startAnother('retry', false)) this.#control.forwardLastFailure();
    });
    return true;
  }

  release(): void {
    this.#retries.release();
  }
}
