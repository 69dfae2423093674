/**
 * The threshold state machine of one endpoint's active health check (no
 * timers: the scheduler feeds it results, the clock only stamps them).
 *
 * An endpoint starts unhealthy ("not checked yet"). Like Envoy, the very
 * first check decides alone: one pass makes it healthy. After that a healthy
 * endpoint turns unhealthy after `unhealthyThreshold` consecutive failures,
 * and an unhealthy one healthy after `healthyThreshold` consecutive passes.
 */
import type { CheckResult } from './checker.js';

export interface Thresholds {
  readonly unhealthyThreshold: number;
  readonly healthyThreshold: number;
}

/** Wall-clock milliseconds since the epoch (Date.now by default). */
export type WallClock = () => number;

/** The admin view (`GET /clusters`) of one endpoint's active check. */
export interface ActiveCheckView {
  /** `healthy`/`unhealthy` (with the reason), or null before the first check ended. */
  readonly last_result: string | null;
  readonly last_checked_at: string | null;
  readonly consecutive_failures: number;
  readonly consecutive_successes: number;
}

export type Transition = 'healthy' | 'unhealthy' | undefined;

export class ActiveHealth {
  readonly #thresholds: Thresholds;
  readonly #clock: WallClock;
  #healthy = false;
  #checks = 0;
  #failures = 0;
  #successes = 0;
  #last: CheckResult | undefined;
  #lastAt: number | undefined;

  /** `healthy`: the state to start from (an endpoint a reload took over keeps its standing). */
  constructor(thresholds: Thresholds, clock: WallClock = Date.now, healthy = false) {
    this.#thresholds = thresholds;
    this.#clock = clock;
    this.#healthy = healthy;
  }

  /** Whether the check lets the endpoint take calls. */
  get healthy(): boolean {
    return this.#healthy;
  }

  /** Checks that ended (passed or failed). */
  get checks(): number {
    return this.#checks;
  }

  /** Records a check's result; returns the state it moved to, if it moved. */
  record(result: CheckResult): Transition {
    const first = this.#checks === 0;
    this.#checks++;
    this.#last = result;
    this.#lastAt = this.#clock();
    if (result.healthy) {
      this.#successes++;
      this.#failures = 0;
      if (!this.#healthy && (first || this.#successes >= this.#thresholds.healthyThreshold)) {
        this.#healthy = true;
        return 'healthy';
      }
    } else {
      this.#failures++;
      this.#successes = 0;
      if (this.#healthy && this.#failures >= this.#thresholds.unhealthyThreshold) {
        this.#healthy = false;
        return 'unhealthy';
      }
    }
    return undefined;
  }

  view(): ActiveCheckView {
    const last = this.#last;
    return {
      last_result:
        last === undefined ? null : last.healthy ? 'healthy' : `unhealthy: ${last.reason}`,
      last_checked_at: this.#lastAt === undefined ? null : new Date(this.#lastAt).toISOString(),
      consecutive_failures: this.#failures,
      consecutive_successes: this.#successes,
    };
  }
}
