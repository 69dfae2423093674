/**
 * How a call replaces a failed upstream attempt before it commits: not at
 * all (transparent retries aside, which the forwarder makes itself), by a
 * retry after a back-off (`RetryStrategy`), or by staggered hedged attempts
 * (`HedgeStrategy`). A strategy decides; the forwarder, through
 * `AttemptControl`, opens and gives up attempts.
 */
import type { Pushback } from '../grpc/retry-pushback.js';
import type { AttemptRecord } from '../outcome/attempt-record.js';
import type { AttemptFailure } from './attempt-failure.js';
import type { UpstreamAttempt } from './upstream-attempt.js';

/** A failure a strategy may act on (a cancelled attempt never is one). */
export type ActionableFailure = Exclude<AttemptFailure, { kind: 'cancelled' }>;

/** What a strategy may do with the call's attempts. */
export interface AttemptControl {
  /** Attempts open now, oldest first. */
  live(): readonly UpstreamAttempt[];
  /** performance.now() at which the call expires; undefined for none. */
  deadline(): number | undefined;
  /** The call has not committed, is not over, and its request can still be replayed. */
  replayable(): boolean;
  /**
   * Opens another attempt on an endpoint the call has not tried (if the
   * balancer offers one); `budgetSlot` makes it take a slot of the cluster's
   * retry budget first. False when no attempt could be opened.
   */
  startAnother(kind: 'retry' | 'hedge', budgetSlot: boolean): boolean;
  /** Ends `attempt`, records how it ended. */
  giveUp(attempt: UpstreamAttempt, failure: AttemptFailure, then: AttemptRecord['then']): void;
  /** No other attempt can answer: the last failure goes to the client as it came. */
  forwardLastFailure(): void;
  /** Runs `next` after `delayMs`; one is pending at a time (a new one replaces it). */
  after(delayMs: number, next: () => void): void;
}

export interface AttemptStrategy {
  /** Retries made (the call's outcome reports them). */
  readonly retries: number;
  /** How long an attempt may wait to commit; undefined for no limit. */
  readonly perTryTimeoutMs: number | undefined;
  /** `grpc-previous-rpc-attempts` for the attempt being opened (0: none sent). */
  previousAttempts(): number;
  /** The first attempt was opened. */
  started(): void;
  /**
   * How long response headers may be held, at `now` (performance.now(),
   * which the caller reads once for the hold too); undefined to forward them
   * at once.
   */
  holdMs(now: number): number | undefined;
  /** A failed attempt before commit: true when it was given up for another. */
  recover(attempt: UpstreamAttempt, failure: ActionableFailure, pushback: Pushback): boolean;
  /** The call committed or ended. */
  release(): void;
}

/** No policy: a failure is the call's reply (transparent retries aside). */
export const NO_REPLACEMENT: AttemptStrategy = {
  retries: 0,
  perTryTimeoutMs: undefined,
  previousAttempts: () => 0,
  started: () => undefined,
  holdMs: () => undefined,
  recover: () => false,
  release: () => undefined,
};
