/**
 * The route's `hedge:` policy at work for one call (gRFC A6 hedging): every
 * `delay` while no attempt has answered, another attempt goes to an
 * endpoint not tried yet, up to `max_attempts`, each taking a slot of the
 * cluster's retry budget. A failure in `non_fatal_on` ends only its own
 * attempt; when none is left the next goes at once (after the backend's
 * pushback, if it gave one). Any other reply is the call's.
 */
import type { Pushback } from '../grpc/retry-pushback.js';
import type { HedgePolicy } from '../retry/hedge-policy.js';
import type { ActionableFailure, AttemptControl, AttemptStrategy } from './attempt-strategy.js';
import type { UpstreamAttempt } from './upstream-attempt.js';

export class HedgeStrategy implements AttemptStrategy {
  readonly retries = 0;
  readonly perTryTimeoutMs = undefined;
  readonly #policy: HedgePolicy;
  readonly #control: AttemptControl;
  /** The first attempt and the hedges sent: what `max_attempts` counts. */
  #sent = 0;

  constructor(policy: HedgePolicy, control: AttemptControl) {
    this.#policy = policy;
    this.#control = control;
  }

  previousAttempts(): number {
    return Math.max(0, this.#sent - 1);
  }

  started(): void {
    this.#sent = 1;
    this.#schedule(this.#policy.delayMs);
  }

  holdMs(): undefined {
    // The first response headers win: nothing is held.
    return undefined;
  }

  recover(attempt: UpstreamAttempt, failure: ActionableFailure, pushback: Pushback): boolean {
    if (pushback.kind === 'stop') return false;
    const nonFatal =
      failure.kind === 'reply'
        ? this.#policy.nonFatalStatus(failure.grpcStatus)
        : this.#policy.nonFatalError(failure.error);
    if (!nonFatal) return false;
    const others = this.#control.live().some((other) => other !== attempt);
    if (!others && !this.#moreAllowed()) return false;
    this.#control.giveUp(attempt, failure, 'hedge');
    if (!others || pushback.kind === 'delay') {
      this.#schedule(pushback.kind === 'delay' ? pushback.ms : 0);
    }
    return true;
  }

  release(): void {
    // Budget slots are held per attempt and freed with it.
  }

  #moreAllowed(): boolean {
    const deadline = this.#control.deadline();
    const past = deadline !== undefined && performance.now() >= deadline;
    return this.#sent < this.#policy.maxAttempts && !past;
  }

  #schedule(delayMs: number): void {
    if (this.#sent >= this.#policy.maxAttempts) return;
    this.#control.after(delayMs, () => {
      this.#send();
    });
  }

  /** One more attempt if allowed; with none left to answer and none sent, the last failure stands. */
  #send(): void {
    if (!this.#control.replayable()) return;
    if (this.#moreAllowed()) {
      this.#sent++;
      if (this.#control.startAnother('hedge', true)) {
        this.#schedule(this.#policy.delayMs);
        return;
      }
      this.#sent--;
    }
    if (this.#control.live().length === 0) this.#control.forwardLastFailure();
  }
}
