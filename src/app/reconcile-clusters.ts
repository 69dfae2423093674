/**
 * Which Cluster objects a reload keeps, builds and retires. A cluster whose
 * config is unchanged is kept as it is: its endpoints' connections, health
 * checks, outlier and breaker state carry over. A cluster whose config
 * changed is built anew; when the settings its connections and health state
 * depend on are unchanged (`shareEndpoints`), it takes over the old one's
 * Endpoint objects for the addresses both have, so those keep their
 * connections, health and outlier state. The old cluster, and one that left
 * the config, is retired: closed once its calls in flight have finished
 * (endpoints handed over stay open).
 */
import type { ClusterConfig, Config } from '../config/schema.js';
import type { Cluster, ClusterOptions } from '../upstream/cluster.js';
import type { Endpoint } from '../upstream/endpoint.js';
import { sameConfig } from './same-config.js';

export interface RetiredCluster {
  readonly cluster: Cluster;
  /** Its endpoints the successor took over: not waited for, not closed. */
  readonly handedOver: ReadonlySet<Endpoint>;
}

export interface ClusterPlan {
  /** The clusters of the new snapshot, by name. */
  readonly clusters: ReadonlyMap<string, Cluster>;
  /** Built for the new config: to start before the swap, or `abort` if the reload is refused. */
  readonly added: readonly Cluster[];
  /** Of the running snapshot and not in the new one: to drain after `commit`. */
  readonly retired: readonly RetiredCluster[];
  /** The swap happened: endpoints taken over change owner. Returns what to drain. */
  commit(): readonly RetiredCluster[];
  /** The reload was refused: closes the clusters built for it (borrowed endpoints stay open). */
  abort(): Promise<void>;
}

/** Cluster keys an endpoint's connections and health/outlier state depend on. */
const ENDPOINT_SETTINGS = [
  'connect_timeout',
  'stream_window',
  'connection_window',
  'idle_timeout',
  'keepalive',
  // A TLS change must not keep connections made with the old certificates or CA.
  'tls',
] as const;

/** Whether a changed cluster may take over the old one's endpoints. */
export function shareEndpoints(before: ClusterConfig, after: ClusterConfig): boolean {
  return (
    ENDPOINT_SETTINGS.every((key) => sameConfig(before[key], after[key])) &&
    (before.health_check === undefined) === (after.health_check === undefined) &&
    (before.outlier_detection === undefined) === (after.outlier_detection === undefined)
  );
}

export function reconcileClusters(
  running: { readonly config: Config; readonly clusters: ReadonlyMap<string, Cluster> },
  next: Config,
  build: (config: ClusterConfig, options: Pick<ClusterOptions, 'adopt'>) => Cluster,
): ClusterPlan {
  const before = new Map(running.config.clusters.map((c) => [c.name, c]));
  const clusters = new Map<string, Cluster>();
  const added: Cluster[] = [];
  /** Per old cluster, the endpoints lent to its successor. */
  const lent = new Map<Cluster, Set<Endpoint>>();
  for (const config of next.clusters) {
    const old = running.clusters.get(config.name);
    const oldConfig = before.get(config.name);
    if (old !== undefined && sameConfig(oldConfig, config)) {
      clusters.set(config.name, old);
      continue;
    }
    let options: Pick<ClusterOptions, 'adopt'> = {};
    if (old !== undefined && oldConfig !== undefined && shareEndpoints(oldConfig, config)) {
      const given = new Set<Endpoint>();
      lent.set(old, given);
      options = {
        adopt: (key) => {
          const endpoint = old.endpoints.find((e) => e.address === key);
          if (endpoint !== undefined) given.add(endpoint);
          return endpoint;
        },
      };
    }
    const cluster = build(config, options);
    clusters.set(config.name, cluster);
    added.push(cluster);
  }
  const retired = [...running.clusters.values()]
    .filter((c) => clusters.get(c.name) !== c)
    .map((cluster) => ({ cluster, handedOver: lent.get(cluster) ?? new Set<Endpoint>() }));
  return {
    clusters,
    added,
    retired,
    commit() {
      for (const cluster of added) cluster.claimAdopted();
      return retired.map(({ cluster, handedOver }) => {
        // Only what the successor still has (a DNS change while it started may have dropped one).
        const successor = clusters.get(cluster.name);
        const kept = new Set(
          [...handedOver].filter((e) => successor?.endpoints.includes(e) === true),
        );
        cluster.handOver(kept);
        return { cluster, handedOver: kept };
      });
    },
    abort: async () => {
      await Promise.all(added.map((c) => c.close()));
    },
  };
}

/**
 * Closes a cluster the running snapshot no longer has, once the calls on its
 * own endpoints have finished (calls accepted on the old snapshot picked
 * their endpoint at accept, so no new call arrives after the swap).
 */
export async function drainCluster({ cluster, handedOver }: RetiredCluster): Promise<void> {
  for (;;) {
    const busy = cluster.endpoints.filter((e) => e.inFlight > 0 && !handedOver.has(e));
    if (busy.length === 0) break;
    await Promise.all(busy.map((e) => e.whenIdle()));
  }
  await cluster.close();
}
