/**
 * A backend address with its long-lived state: health flags and the pool of
 * HTTP/2 sessions. Endpoints outlive config snapshots (a reload keeps the
 * connections and health of endpoints present in both).
 *
 * The pool owns one health source, `connect_failure`: it holds the endpoint
 * out of balancing while it cannot connect.
 */
import { HealthFlags } from '../health/health-flags.js';
import type { Pickable } from '../lb/load-balancer.js';
import { SessionPool, type SessionPoolOptions } from './session-pool.js';

export class Endpoint implements Pickable {
  readonly health = new HealthFlags();
  readonly pool: SessionPool;
  #inFlight = 0;

  constructor(
    /** `host:port` as written in config. */
    readonly address: string,
    sessionOptions: SessionPoolOptions,
  ) {
    this.pool = new SessionPool(address, sessionOptions, this.health);
  }

  get available(): boolean {
    return this.health.available;
  }

  /** Being drained: takes no new calls, not even when the cluster is in panic. */
  get draining(): boolean {
    return this.health.has('draining');
  }

  /** Calls with an attempt open on this endpoint now. */
  get inFlight(): number {
    return this.#inFlight;
  }

  /** An attempt of a call was opened on this endpoint; pair with `callEnded`. */
  callStarted(): void {
    this.#inFlight++;
  }

  /** That attempt was abandoned or its call finished. */
  callEnded(): void {
    if (this.#inFlight > 0) this.#inFlight--;
  }
}
