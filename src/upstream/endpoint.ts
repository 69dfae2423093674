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
}
