/**
 * Start-up waits for the clusters' first DNS lookups, bounded: a cluster
 * whose lookups failed or did not finish starts with the endpoints it has
 * (none, for a DNS-only cluster) and keeps resolving on its interval.
 */
import type { Logger } from '../log/logger.js';
import type { Cluster } from '../upstream/cluster.js';

export async function awaitFirstLookups(
  clusters: Iterable<Cluster>,
  timeoutMs: number,
  logger: Logger,
): Promise<void> {
  const discovering = [...clusters].filter((c) => c.discovers);
  if (discovering.length === 0) return;
  const pending = new Set(discovering.map((c) => c.name));
  const lookups = Promise.all(
    discovering.map(async (cluster) => {
      await cluster.startDiscovery();
      pending.delete(cluster.name);
    }),
  );
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<void>((resolve) => {
    timer = setTimeout(resolve, timeoutMs);
  });
  try {
    await Promise.race([lookups, timeout]);
  } finally {
    clearTimeout(timer);
  }
  if (pending.size > 0) {
    logger.warn(
      { clusters: [...pending], timeoutMs },
      'first DNS lookups did not finish in time; starting without them',
    );
  }
  for (const cluster of discovering) {
    if (cluster.endpoints.length === 0) {
      logger.warn(
        { cluster: cluster.name },
        'cluster has no endpoints yet; DNS discovery keeps retrying',
      );
    }
  }
}
