/** Compiles a validated config into the data path's immutable Snapshot. */
import type { Config } from '../config/schema.js';
import type { Logger } from '../log/logger.js';
import type { Snapshot } from '../proxy/snapshot.js';
import { RouteTable } from '../router/route-table.js';
import { Cluster, type ClusterOptions } from '../upstream/cluster.js';

export function compileSnapshot(
  config: Config,
  logger: Logger,
  options: ClusterOptions = {},
): Snapshot {
  const clusters = new Map<string, Cluster>();
  for (const cluster of config.clusters) {
    clusters.set(cluster.name, new Cluster(cluster, logger, options));
  }
  return snapshotOf(config, clusters);
}

/** The snapshot of `config`'s routes over clusters already built (a reload keeps some). */
export function snapshotOf(config: Config, clusters: ReadonlyMap<string, Cluster>): Snapshot {
  return Object.freeze({ routes: new RouteTable(config.routes), clusters });
}
