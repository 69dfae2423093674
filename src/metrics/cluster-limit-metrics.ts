/**
 * The clusters' circuit-breaker counters, read at each scrape from the
 * current snapshot (nothing is updated on the data path): what each limit
 * has in use, its maximum, and how many calls or retries it refused.
 */
import { Counter, Gauge, type Registry } from 'prom-client';
import type { ClusterLimitName } from '../breaker/cluster-limits.js';
import type { Cluster } from '../upstream/cluster.js';

export function registerClusterLimitMetrics(
  registry: Registry,
  clusters: () => Iterable<Cluster>,
): void {
  new Counter<'cluster' | 'limit'>({
    name: 'switchyard_cluster_overflows_total',
    help: 'Calls (or retries) a cluster limit refused, by limit: max_requests, max_pending, max_connections, max_retries, retry_budget.',
    labelNames: ['cluster', 'limit'],
    registers: [registry],
    collect() {
      this.reset();
      for (const cluster of clusters()) {
        const overflows = cluster.limits.overflows();
        for (const limit of Object.keys(overflows) as ClusterLimitName[]) {
          this.inc({ cluster: cluster.name, limit }, overflows[limit]);
        }
      }
    },
  });
  new Gauge<'cluster' | 'limit'>({
    name: 'switchyard_cluster_limit_in_use',
    help: 'What each cluster limit counts now: requests (calls active), pending (calls waiting for a connection), connections, retries (in flight).',
    labelNames: ['cluster', 'limit'],
    registers: [registry],
    collect() {
      this.reset();
      for (const cluster of clusters()) {
        const { requests, pending, connections, retries } = cluster.limits;
        this.set({ cluster: cluster.name, limit: 'requests' }, requests.inFlight);
        this.set({ cluster: cluster.name, limit: 'pending' }, pending.inFlight);
        this.set({ cluster: cluster.name, limit: 'connections' }, connections.inFlight);
        this.set({ cluster: cluster.name, limit: 'retries' }, retries.inFlight);
      }
    },
  });
}
