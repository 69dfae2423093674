/**
 * One call's retry bookkeeping under its route's policy: how many retries it
 * made, whether another is still possible, and the retry slot it holds in
 * its cluster's budget. Time and randomness are passed in, so the decisions
 * are tested without timers (test/unit/call-retries.test.ts).
 */
import type { RetryBudget } from '../breaker/retry-budget.js';
import type { Pushback } from '../grpc/retry-pushback.js';
import type { RetryPolicy } from './retry-policy.js';

/** The cluster side of a retry: its budget and how many calls it has active. */
export interface RetryAdmission {
  readonly budget: RetryBudget;
  activeCalls(): number;
}

/** Why a call will not retry (for the access log). */
export type NoRetry = 'max_attempts' | 'deadline' | 'pushback' | 'retry_budget' | 'max_retries';

export class CallRetries {
  readonly policy: RetryPolicy;
  readonly #admission: RetryAdmission;
  readonly #random: () => number;
  #retries = 0;
  #holdsSlot = false;

  constructor(policy: RetryPolicy, admission: RetryAdmission, random: () => number = Math.random) {
    this.policy = policy;
    this.#admission = admission;
    this.#random = random;
  }

  /** Retries started so far (the first attempt is not one). */
  get retries(): number {
    return this.#retries;
  }

  /**
   * Whether a retry could still follow the current attempt: attempts left,
   * deadline not yet passed, and the budget would admit one. While this
   * holds, the call may hold the attempt's response headers; when it does
   * not, nothing is held.
   */
  possible(now: number, deadline: number | undefined): boolean {
    if (1 + this.#retries >= this.policy.maxAttempts) return false;
    if (deadline !== undefined && now >= deadline) return false;
    return this.#holdsSlot || this.#admission.budget.wouldAdmit(this.#admission.activeCalls());
  }

  /**
   * Decides on a retry after a retryable failure: returns the back-off to
   * wait (the pushback when the backend gave one) and takes a retry slot, or
   * says why not. Never past the deadline: a back-off that would end at or
   * after it means no retry.
   */
  next(pushback: Pushback, now: number, deadline: number | undefined): number | NoRetry {
    if (1 + this.#retries >= this.policy.maxAttempts) return 'max_attempts';
    if (pushback.kind === 'stop') return 'pushback';
    const delayMs =
      pushback.kind === 'delay'
        ? pushback.ms
        : this.policy.backoffMs(this.#retries + 1, this.#random);
    if (deadline !== undefined && now + delayMs >= deadline) return 'deadline';
    // One slot per call: give back the last retry's and ask again, so the
    // budget is checked for every retry, not only the first.
    this.release();
    const refusal = this.#admission.budget.tryAcquire(this.#admission.activeCalls());
    if (refusal !== undefined) return refusal;
    this.#holdsSlot = true;
    this.#retries++;
    return delayMs;
  }

  /** Gives back the retry slot (the call committed or ended). */
  release(): void {
    if (!this.#holdsSlot) return;
    this.#holdsSlot = false;
    this.#admission.budget.release();
  }
}
