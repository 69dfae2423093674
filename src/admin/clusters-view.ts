/** The JSON of admin `GET /clusters`: every cluster's endpoints and their health. */
import type { ActiveCheckView } from '../health/active-health.js';
import type { HealthSource } from '../health/health-flags.js';
import type { Cluster } from '../upstream/cluster.js';

export interface EndpointView {
  readonly address: string;
  readonly available: boolean;
  /** The sources holding the endpoint out (empty when available). */
  readonly flags: readonly HealthSource[];
  readonly in_flight: number;
  readonly health_check: ActiveCheckView | null;
  /** Filled by outlier detection through `Endpoint.outlierView()`. */
  readonly outlier: unknown;
}

export interface ClusterView {
  readonly name: string;
  readonly lb_policy: string;
  readonly endpoints: readonly EndpointView[];
}

export interface ClustersView {
  readonly clusters: readonly ClusterView[];
}

export function clustersView(clusters: Iterable<Cluster>): ClustersView {
  return {
    clusters: [...clusters].map((cluster) => ({
      name: cluster.name,
      lb_policy: cluster.lbPolicy,
      endpoints: cluster.endpoints.map((endpoint) => ({
        address: endpoint.address,
        available: endpoint.available,
        flags: endpoint.health.sources(),
        in_flight: endpoint.inFlight,
        health_check: cluster.healthCheckView(endpoint),
        outlier: endpoint.outlierView(),
      })),
    })),
  };
}
