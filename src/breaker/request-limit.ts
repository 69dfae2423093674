/**
 * The cluster's `circuit_breaker.max_requests`: a cap on calls in flight to
 * the cluster at once. Over it, calls fail fast with UNAVAILABLE instead of
 * piling onto a struggling cluster (Envoy's max_requests, default 1024).
 *
 * Counted per process: with several workers, each enforces its own share.
 */
export class RequestLimit {
  #inFlight = 0;

  constructor(readonly max: number) {}

  get inFlight(): number {
    return this.#inFlight;
  }

  /** Takes a slot; false when the cluster is at its limit. */
  tryAcquire(): boolean {
    if (this.#inFlight >= this.max) return false;
    this.#inFlight++;
    return true;
  }

  release(): void {
    if (this.#inFlight > 0) this.#inFlight--;
  }
}
