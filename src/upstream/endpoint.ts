/**
 * A backend address with its long-lived state: health flags and the pool of
 * HTTP/2 sessions. Endpoints outlive config snapshots (a reload keeps the
 * connections and health of endpoints present in both).
 */
import { HealthFlags } from '../health/health-flags.js';
import type { Pickable } from '../lb/load-balancer.js';
import { SessionPool } from './session-pool.js';
import type { UpstreamSessionOptions } from './upstream-session.js';

export class Endpoint implements Pickable {
  readonly health = new HealthFlags();
  readonly pool: SessionPool;

  constructor(
    /** `host:port` as written in config. */
    readonly address: string,
    sessionOptions: UpstreamSessionOptions,
  ) {
    this.pool = new SessionPool(address, sessionOptions);
  }

  get available(): boolean {
    return this.health.available;
  }
}
