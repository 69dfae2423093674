/**
 * A cap on something a cluster has in flight at once (calls, calls waiting
 * for a connection, connections). Past it the caller fails fast instead of
 * piling onto a struggling cluster, and the refusal is counted.
 *
 * Counted per process: with several workers, each enforces its own share.
 */
export class ConcurrencyLimit {
  #inFlight = 0;
  #overflows = 0;

  /** `max` of Infinity never refuses. */
  constructor(readonly max: number) {}

  get inFlight(): number {
    return this.#inFlight;
  }

  /** Refusals since the limit was created (a counter for metrics). */
  get overflows(): number {
    return this.#overflows;
  }

  /** Takes a slot; false (and one overflow counted) when at the limit. */
  tryAcquire(): boolean {
    if (this.#inFlight >= this.max) {
      this.#overflows++;
      return false;
    }
    this.#inFlight++;
    return true;
  }

  /** Counts a slot taken elsewhere, even past `max` (a reload handing over open connections). */
  takeOver(): void {
    this.#inFlight++;
  }

  release(): void {
    if (this.#inFlight > 0) this.#inFlight--;
  }
}
