/**
 * A cluster's active health checks: one timer per endpoint, never on the
 * call path. Each endpoint is checked at once when it is added, then every
 * `interval` minus up to 10% jitter (so checks of many endpoints spread out,
 * and `interval` stays an upper bound). A check not answered within
 * `timeout` fails. Results go through the endpoint's `ActiveHealth`
 * thresholds, which set and clear the `active_check` health flag, and only
 * that flag.
 *
 * An endpoint is flagged `active_check` when added, so it takes no calls
 * until its first check passes. `firstRound` resolves once every endpoint
 * present at `start` has had its first check end (pass, fail or timeout), so
 * it is bounded by the check timeout.
 */
import type { UpstreamTlsOptions } from '../upstream/upstream-tls.js';
import type { HealthCheckConfig } from '../config/schema.js';
import { DEFAULTS } from '../config/schema.js';
import { requireDuration } from '../config/duration.js';
import type { Logger } from '../log/logger.js';
import type { HealthFlags } from './health-flags.js';
import { ActiveHealth, type ActiveCheckView, type WallClock } from './active-health.js';
import { unhealthy, type CheckResult, type HealthChecker } from './checker.js';
import { GrpcHealthChecker } from './grpc-checker.js';
import { HttpHealthChecker } from './http-checker.js';
import { TcpHealthChecker } from './tcp-checker.js';

/** The part of an Endpoint the scheduler needs. */
export interface CheckedEndpoint {
  readonly address: string;
  readonly health: HealthFlags;
}

export interface SchedulerOptions {
  readonly checker: HealthChecker;
  readonly intervalMs: number;
  readonly timeoutMs: number;
  readonly unhealthyThreshold: number;
  readonly healthyThreshold: number;
  readonly logger: Logger;
  readonly clock?: WallClock;
  /** In [0, 1); Math.random by default. */
  readonly random?: () => number;
}

/** Share of `interval` taken off at random before each next check. */
export const JITTER = 0.1;

interface Entry {
  readonly state: ActiveHealth;
  timer: NodeJS.Timeout | undefined;
  abort: AbortController | undefined;
  stopped: boolean;
}

export class HealthCheckScheduler {
  readonly #options: SchedulerOptions;
  readonly #entries = new Map<CheckedEndpoint, Entry>();
  readonly #firstPending = new Set<CheckedEndpoint>();
  /** Endpoints taken over by `adopt`, not yet checked. */
  readonly #adopted = new Set<CheckedEndpoint>();
  #firstRoundResolve: (() => void) | undefined;
  readonly #firstRound: Promise<void>;
  #started = false;
  #stopped = false;

  constructor(options: SchedulerOptions) {
    this.#options = options;
    this.#firstRound = new Promise((resolve) => {
      this.#firstRoundResolve = resolve;
    });
  }

  /** Whether `start` ran and the first check of every endpoint present then has ended. */
  get firstRoundDone(): boolean {
    return this.#started && this.#firstPending.size === 0;
  }

  /** Resolves when `firstRoundDone` becomes true. */
  get firstRound(): Promise<void> {
    return this.#firstRound;
  }

  /** Holds an endpoint out until its first check passes (call when it is created). */
  hold(endpoint: CheckedEndpoint): void {
    if (!this.#entries.has(endpoint)) endpoint.health.set('active_check');
  }

  /** Starts checking these endpoints; their first checks make up the first round. */
  start(endpoints: Iterable<CheckedEndpoint>): void {
    if (this.#started || this.#stopped) return;
    this.#started = true;
    for (const endpoint of endpoints) {
      this.#firstPending.add(endpoint);
      this.add(endpoint);
    }
    this.#maybeFirstRoundDone();
  }

  /**
   * An endpoint taken over from the cluster a reload replaces (instead of
   * `hold`): checked like the others, but not held out; its flag stays as
   * the previous checks left it until this scheduler's thresholds move it.
   */
  adopt(endpoint: CheckedEndpoint): void {
    if (!this.#entries.has(endpoint)) this.#adopted.add(endpoint);
  }

  /** Checks a (new) endpoint from now on; held out until its first check passes. */
  add(endpoint: CheckedEndpoint): void {
    if (!this.#started || this.#stopped || this.#entries.has(endpoint)) return;
    const adopted = this.#adopted.delete(endpoint);
    if (!adopted) endpoint.health.set('active_check');
    const healthy = adopted && !endpoint.health.has('active_check');
    const entry: Entry = {
      state: new ActiveHealth(this.#options, this.#options.clock, healthy),
      timer: undefined,
      abort: undefined,
      stopped: false,
    };
    this.#entries.set(endpoint, entry);
    void this.#run(endpoint, entry);
  }

  /** Stops checking an endpoint that left the cluster (its flags stay as they are). */
  remove(endpoint: CheckedEndpoint): void {
    const entry = this.#entries.get(endpoint);
    if (entry === undefined) return;
    this.#entries.delete(endpoint);
    this.#stopEntry(entry);
    this.#options.checker.forget(endpoint);
    if (this.#firstPending.delete(endpoint)) this.#maybeFirstRoundDone();
  }

  /** The admin view of an endpoint's check, or null when it is not checked. */
  view(endpoint: CheckedEndpoint): ActiveCheckView | null {
    return this.#entries.get(endpoint)?.state.view() ?? null;
  }

  /** Stops every timer and probe and releases the checker's connections. */
  async stop(): Promise<void> {
    if (this.#stopped) return;
    this.#stopped = true;
    for (const entry of this.#entries.values()) this.#stopEntry(entry);
    this.#entries.clear();
    this.#firstPending.clear();
    await this.#options.checker.close();
  }

  #stopEntry(entry: Entry): void {
    entry.stopped = true;
    clearTimeout(entry.timer);
    entry.timer = undefined;
    entry.abort?.abort(new Error('health checks stopped'));
  }

  async #run(endpoint: CheckedEndpoint, entry: Entry): Promise<void> {
    entry.timer = undefined;
    const abort = new AbortController();
    entry.abort = abort;
    const timeout = setTimeout(() => {
      abort.abort(new Error(`health check timed out after ${String(this.#options.timeoutMs)}ms`));
    }, this.#options.timeoutMs);
    timeout.unref();
    let result: CheckResult;
    try {
      result = await this.#options.checker.check(endpoint, abort.signal);
    } catch (error) {
      // Checkers resolve; a throw is a bug in one, and counts as a failure.
      result = unhealthy(error instanceof Error ? error.message : String(error));
    } finally {
      clearTimeout(timeout);
      entry.abort = undefined;
    }
    if (entry.stopped) return;
    this.#apply(endpoint, entry.state, result);
    if (this.#firstPending.delete(endpoint)) this.#maybeFirstRoundDone();
    const random = this.#options.random ?? Math.random;
    const delayMs = this.#options.intervalMs * (1 - JITTER * random());
    entry.timer = setTimeout(() => void this.#run(endpoint, entry), delayMs);
    entry.timer.unref();
  }

  #apply(endpoint: CheckedEndpoint, state: ActiveHealth, result: CheckResult): void {
    const first = state.checks === 0;
    const moved = state.record(result);
    const reason = result.healthy ? undefined : result.reason;
    if (moved === 'healthy') {
      endpoint.health.clear('active_check');
      this.#options.logger.info(
        { endpoint: endpoint.address },
        'health check passed: endpoint healthy',
      );
    } else if (moved === 'unhealthy') {
      endpoint.health.set('active_check');
      this.#options.logger.warn(
        { endpoint: endpoint.address, reason },
        'health check failed: endpoint unhealthy',
      );
    } else if (first && !result.healthy) {
      this.#options.logger.warn(
        { endpoint: endpoint.address, reason },
        'first health check failed: endpoint stays out',
      );
    }
  }

  #maybeFirstRoundDone(): void {
    if (this.firstRoundDone) this.#firstRoundResolve?.();
  }
}

/** The scheduler a cluster's `health_check` config asks for. */
export function schedulerFromConfig(
  config: HealthCheckConfig,
  context: {
    readonly authority: string | undefined;
    readonly logger: Logger;
    /** The cluster's TLS: grpc and http checks connect with it (tcp checks only open TCP). */
    readonly tls?: UpstreamTlsOptions | undefined;
  },
): HealthCheckScheduler {
  return new HealthCheckScheduler({
    checker: checkerFromConfig(config, context.authority, context.tls),
    intervalMs: requireDuration(config.interval ?? DEFAULTS.healthCheckInterval),
    timeoutMs: requireDuration(config.timeout ?? DEFAULTS.healthCheckTimeout),
    unhealthyThreshold: config.unhealthy_threshold ?? DEFAULTS.unhealthyThreshold,
    healthyThreshold: config.healthy_threshold ?? DEFAULTS.healthyThreshold,
    logger: context.logger,
  });
}

function checkerFromConfig(
  config: HealthCheckConfig,
  authority: string | undefined,
  tls: UpstreamTlsOptions | undefined,
): HealthChecker {
  if (config.grpc !== undefined) {
    return new GrpcHealthChecker({
      service: config.grpc.service ?? DEFAULTS.healthCheckGrpcService,
      unimplementedIsHealthy: config.grpc.unimplemented_is_healthy ?? false,
      authority,
      tls,
    });
  }
  if (config.http !== undefined) {
    return new HttpHealthChecker({
      path: config.http.path ?? DEFAULTS.healthCheckHttpPath,
      expectedStatuses: config.http.expected_statuses ?? DEFAULTS.healthCheckExpectedStatuses,
      port: config.http.port,
      tls,
    });
  }
  // Semantic checks guarantee exactly one kind; tcp is what remains.
  return new TcpHealthChecker();
}
