/**
 * Which Cluster objects a reload keeps, builds and retires. A cluster whose
 * config is unchanged is kept as it is: its endpoints' connections, health
 * checks, outlier and breaker state carry over. A cluster whose config
 * changed is built anew (new connections; the old one drains), and one that
 * left the config is retired: closed once its calls in flight have finished
 * (SessionPool.close lets streams finish).
 */
import type { ClusterConfig, Config } from '../config/schema.js';
import type { Cluster } from '../upstream/cluster.js';
import { sameConfig } from './same-config.js';

export interface ClusterPlan {
  /** The clusters of the new snapshot, by name. */
  readonly clusters: ReadonlyMap<string, Cluster>;
  /** Built for the new config: to start before the swap, or close if the reload is refused. */
  readonly added: readonly Cluster[];
  /** Of the running snapshot and not in the new one: to drain after the swap. */
  readonly retired: readonly Cluster[];
}

export function reconcileClusters(
  running: { readonly config: Config; readonly clusters: ReadonlyMap<string, Cluster> },
  next: Config,
  build: (config: ClusterConfig) => Cluster,
): ClusterPlan {
  const before = new Map(running.config.clusters.map((c) => [c.name, c]));
  const clusters = new Map<string, Cluster>();
  const added: Cluster[] = [];
  for (const config of next.clusters) {
    const kept = running.clusters.get(config.name);
    if (kept !== undefined && sameConfig(before.get(config.name), config)) {
      clusters.set(config.name, kept);
      continue;
    }
    const cluster = build(config);
    clusters.set(config.name, cluster);
    added.push(cluster);
  }
  const retired = [...running.clusters.values()].filter((c) => clusters.get(c.name) !== c);
  return { clusters, added, retired };
}

/**
 * Closes a cluster the running snapshot no longer has, once the calls on its
 * endpoints have finished (calls accepted on the old snapshot picked their
 * endpoint at accept, so no new call arrives after the swap).
 */
export async function drainCluster(cluster: Cluster): Promise<void> {
  for (;;) {
    const busy = cluster.endpoints.filter((e) => e.inFlight > 0);
    if (busy.length === 0) break;
    await Promise.all(busy.map((e) => e.whenIdle()));
  }
  await cluster.close();
}
