/**
 * A cluster's limits (`circuit_breaker:` and `retry_budget:`), Envoy's
 * circuit-breaker counters: calls active, calls waiting for a connection,
 * connections open, and retries in flight. Each refusal is counted by the
 * limit that refused it (`switchyard_cluster_overflows_total`).
 *
 * Health checks are exempt: they use their own connections and never pass
 * through these counters.
 */
import { DEFAULTS, type ClusterConfig } from '../config/schema.js';
import { ProxyError } from '../errors/proxy-error.js';
import { ConcurrencyLimit } from './concurrency-limit.js';
import type { RetryAdmission } from '../retry/call-retries.js';
import { RetryBudget } from './retry-budget.js';

/** The limits' names as config, error messages and metrics spell them. */
export type ClusterLimitName =
  'max_requests' | 'max_pending' | 'max_connections' | 'max_retries' | 'retry_budget';

export class ClusterLimits implements RetryAdmission {
  /** `max_requests`: calls admitted and not yet finished. */
  readonly requests: ConcurrencyLimit;
  /** `max_pending`: calls whose upstream stream waits for its connection. */
  readonly pending: ConcurrencyLimit;
  /** `max_connections`: upstream connections of every endpoint together. */
  readonly connections: ConcurrencyLimit;
  /** `retry_budget` and `max_retries`: retries in flight. */
  readonly retries: RetryBudget;

  constructor(
    readonly cluster: string,
    config: Pick<ClusterConfig, 'circuit_breaker' | 'retry_budget'>,
  ) {
    const breaker = config.circuit_breaker;
    this.requests = new ConcurrencyLimit(breaker?.max_requests ?? DEFAULTS.maxRequests);
    this.pending = new ConcurrencyLimit(breaker?.max_pending ?? DEFAULTS.maxPending);
    this.connections = new ConcurrencyLimit(breaker?.max_connections ?? DEFAULTS.maxConnections);
    this.retries = new RetryBudget({
      budgetPercent: config.retry_budget?.budget_percent ?? DEFAULTS.retryBudgetPercent,
      minConcurrency: config.retry_budget?.min_retry_concurrency ?? DEFAULTS.minRetryConcurrency,
      maxRetries: breaker?.max_retries,
    });
  }

  /** RetryAdmission (the cluster's side of every call's retries, one object for all): the budget. */
  get budget(): RetryBudget {
    return this.retries;
  }

  /** RetryAdmission: calls active in the cluster, which the budget is a share of. */
  activeCalls(): number {
    return this.requests.inFlight;
  }

  /** Overflows so far by limit (a counter for metrics). */
  overflows(): Record<ClusterLimitName, number> {
    return {
      max_requests: this.requests.overflows,
      max_pending: this.pending.overflows,
      max_connections: this.connections.overflows,
      ...this.retries.refused,
    };
  }

  /** The error a call past `limit` fails with: UNAVAILABLE, naming the limit; never retried. */
  overflowError(limit: 'max_requests' | 'max_pending' | 'max_connections'): ProxyError {
    const max = {
      max_requests: this.requests,
      max_pending: this.pending,
      max_connections: this.connections,
    }[limit].max;
    const what = {
      max_requests: 'calls in flight',
      max_pending: 'calls waiting for a connection',
      max_connections: 'upstream connections',
    }[limit];
    return new ProxyError(
      'cluster_overloaded',
      `cluster ${this.cluster} is at circuit_breaker.${limit} (${max} ${what})`,
    );
  }
}
