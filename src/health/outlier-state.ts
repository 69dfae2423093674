/**
 * One endpoint's outlier-detection state machine, owned by the
 * OutlierDetector (src/health/outlier-detector.ts):
 *
 *   in rotation ──(consecutive failures reach the threshold, room to eject)──► ejected
 *   ejected ──(ejection time passes)──► half-open
 *   half-open ──(the probe call succeeds)──► in rotation (count reset)
 *   half-open ──(the probe call fails)──► ejected again, for longer
 *
 * While ejected the endpoint's `outlier` health flag is set (and only that
 * flag). While half-open the flag is clear but `admits` lets exactly one call
 * through: once a call has started on the endpoint, no further one is
 * admitted until that call's outcome (or abandonment) arrives. An endpoint
 * keeps its ejection slot (for max_ejection_percent) until it is back in
 * rotation, so re-ejecting a failed probe never exceeds the limit.
 */
import type { Clock, ClockTimer } from './clock.js';
import type { HealthFlags } from './health-flags.js';

/** Read-only view for admin pages (`GET /clusters`). */
export interface OutlierView {
  /** Failed calls in a row counted so far. */
  readonly consecutive_failures: number;
  /** Ejections so far (the next ejection lasts base × (this + 1), capped). */
  readonly times_ejected: number;
  /** When the current ejection ends (ISO 8601); null when not ejected. */
  readonly ejected_until: string | null;
  /** Ejection time has passed; waiting for (or running) its one probe call. */
  readonly half_open: boolean;
}

export type OutlierPhase = 'in_rotation' | 'ejected' | 'half_open';

export class OutlierState {
  readonly #health: HealthFlags;
  readonly #clock: Clock;
  #phase: OutlierPhase = 'in_rotation';
  #consecutiveFailures = 0;
  #timesEjected = 0;
  #ejectedUntil: number | undefined;
  #timer: ClockTimer | undefined;
  #probeInFlight = false;
  #closed = false;

  constructor(health: HealthFlags, clock: Clock) {
    this.#health = health;
    this.#clock = clock;
  }

  get phase(): OutlierPhase {
    return this.#phase;
  }

  /** Holds an ejection slot: ejected, or half-open and not yet proven healthy. */
  get holdsEjectionSlot(): boolean {
    return this.#phase !== 'in_rotation';
  }

  get consecutiveFailures(): number {
    return this.#consecutiveFailures;
  }

  get timesEjected(): number {
    return this.#timesEjected;
  }

  /** False only while half-open with its probe call in flight (the ejected case is the health flag's). */
  get admits(): boolean {
    return !(this.#phase === 'half_open' && this.#probeInFlight);
  }

  get view(): OutlierView {
    return {
      consecutive_failures: this.#consecutiveFailures,
      times_ejected: this.#timesEjected,
      ejected_until:
        this.#phase === 'ejected' && this.#ejectedUntil !== undefined
          ? new Date(this.#ejectedUntil).toISOString()
          : null,
      half_open: this.#phase === 'half_open',
    };
  }

  /** A call (attempt) started on the endpoint: while half-open, it is the probe. */
  callStarted(): void {
    if (this.#phase === 'half_open') this.#probeInFlight = true;
  }

  /** The probe was given up before the backend saw it (transparent retry elsewhere): admit another. */
  attemptAbandoned(): void {
    if (this.#phase === 'half_open') this.#probeInFlight = false;
  }

  /** A call ended without telling anything about the endpoint (deadline, client cancel). */
  neutral(): void {
    if (this.#phase === 'half_open') this.#probeInFlight = false;
  }

  /** A call succeeded: the failure count restarts; a half-open endpoint is back in rotation. */
  success(): void {
    if (this.#phase === 'ejected') return;
    this.#consecutiveFailures = 0;
    this.#phase = 'in_rotation';
    this.#probeInFlight = false;
  }

  /**
   * A call failed. Returns whether the endpoint should now be ejected: a
   * failed probe always (it holds its slot), otherwise once the count reaches
   * `threshold`; the detector then checks room and calls `eject`.
   */
  failure(threshold: number): boolean {
    if (this.#phase === 'ejected') return false;
    this.#consecutiveFailures++;
    if (this.#phase === 'half_open') return true;
    return this.#consecutiveFailures >= threshold;
  }

  /** Ejects for base × times ejected (capped), then turns half-open. */
  eject(baseMs: number, maxMs: number): void {
    if (this.#closed) return;
    this.#timesEjected++;
    const durationMs = Math.min(baseMs * this.#timesEjected, maxMs);
    this.#phase = 'ejected';
    this.#probeInFlight = false;
    this.#ejectedUntil = this.#clock.now() + durationMs;
    this.#health.set('outlier');
    this.#timer?.cancel();
    this.#timer = this.#clock.setTimeout(() => {
      this.#timer = undefined;
      this.#halfOpen();
    }, durationMs);
  }

  /** Stops the timer (Switchyard.close); the state stays as it is. */
  close(): void {
    this.#closed = true;
    this.#timer?.cancel();
    this.#timer = undefined;
  }

  #halfOpen(): void {
    this.#phase = 'half_open';
    this.#ejectedUntil = undefined;
    this.#probeInFlight = false;
    this.#health.clear('outlier');
  }
}
