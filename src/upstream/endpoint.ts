/**
 * A backend address with its long-lived state: health flags and the pool of
 * HTTP/2 sessions. Endpoints outlive config snapshots (a reload keeps the
 * connections and health of endpoints present in both).
 *
 * The pool owns one health source, `connect_failure`: it holds the endpoint
 * out of balancing while it cannot connect.
 */
import { HealthFlags } from '../health/health-flags.js';
import type { OutlierState, OutlierView } from '../health/outlier-state.js';
import type { Pickable } from '../lb/load-balancer.js';
import { SessionPool, type SessionPoolOptions } from './session-pool.js';

export class Endpoint implements Pickable {
  readonly health = new HealthFlags();
  readonly pool: SessionPool;
  #inFlight = 0;
  #idleWaiters: (() => void)[] = [];
  #outlier: OutlierState | undefined;

  constructor(
    /** `host:port` as written in config, or `ip:port` found by DNS discovery. */
    readonly address: string,
    sessionOptions: SessionPoolOptions,
  ) {
    this.pool = new SessionPool(address, sessionOptions, this.health);
  }

  /** No health flag set, and not a half-open outlier whose one probe call is in flight. */
  get available(): boolean {
    return this.health.available && (this.#outlier?.admits ?? true);
  }

  /** Outlier detection's state machine, when the cluster has `outlier_detection`. */
  get outlierState(): OutlierState | undefined {
    return this.#outlier;
  }

  /** Set once by the OutlierDetector (src/health/outlier-detector.ts). */
  attachOutlierState(state: OutlierState): void {
    this.#outlier = state;
  }

  /** Outlier detection's read-only view for admin pages; null without outlier detection. */
  get outlier(): OutlierView | null {
    return this.#outlier?.view ?? null;
  }

  /** Being drained: takes no new calls, not even when the cluster is in panic. */
  get draining(): boolean {
    return this.health.has('draining');
  }

  /**
   * Outlier detection's view of this endpoint for `GET /clusters` (the
   * `outlier` field); null while outlier detection does not report one.
   */
  outlierView(): OutlierView | null {
    return this.outlier;
  }

  /** Calls with an attempt open on this endpoint now. */
  get inFlight(): number {
    return this.#inFlight;
  }

  /** An attempt of a call was opened on this endpoint; pair with `callEnded`. */
  callStarted(): void {
    this.#inFlight++;
    this.#outlier?.callStarted();
  }

  /** An attempt here was given up for another endpoint (transparent retry); ends it. */
  attemptAbandoned(): void {
    this.callEnded();
    this.#outlier?.attemptAbandoned();
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
