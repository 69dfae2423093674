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
  #idleWaiters: (() => void)[] = [];

  constructor(
    /** `host:port` as written in config, or `ip:port` found by DNS discovery. */
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
    if (this.#inFlight === 0 && this.#idleWaiters.length > 0) {
      const waiters = this.#idleWaiters;
      this.#idleWaiters = [];
      for (const resolve of waiters) resolve();
    }
  }

  /** Resolves once no call is in flight here (at once when none is). */
  whenIdle(): Promise<void> {
    if (this.#inFlight === 0) return Promise.resolve();
    return new Promise((resolve) => {
      this.#idleWaiters.push(resolve);
    });
  }
}
