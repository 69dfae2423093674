/**
 * Endpoint state as gauges, read from the current snapshot's clusters at
 * each scrape (prom-client `collect`): nothing is updated on the data path,
 * and endpoints that left (a reload, DNS discovery) vanish from the output.
 */
import { Gauge, type Registry } from 'prom-client';
import { HEALTH_SOURCES } from '../health/health-flags.js';
import type { Cluster } from '../upstream/cluster.js';

export function registerEndpointGauges(
  registry: Registry,
  clusters: () => Iterable<Cluster>,
): void {
  const registers = [registry];
  new Gauge({
    name: 'switchyard_endpoint_available',
    help: 'Whether the endpoint takes new calls (1) or a health flag holds it out (0).',
    labelNames: ['cluster', 'endpoint'],
    registers,
    collect() {
      this.reset();
      for (const cluster of clusters())
        for (const endpoint of cluster.endpoints)
          this.set(
            { cluster: cluster.name, endpoint: endpoint.address },
            endpoint.available ? 1 : 0,
          );
    },
  });
  new Gauge({
    name: 'switchyard_endpoint_health_flag',
    help: 'Whether this health source holds the endpoint out (1) or not (0).',
    labelNames: ['cluster', 'endpoint', 'source'],
    registers,
    collect() {
      this.reset();
      for (const cluster of clusters())
        for (const endpoint of cluster.endpoints)
          for (const source of HEALTH_SOURCES)
            this.set(
              { cluster: cluster.name, endpoint: endpoint.address, source },
              endpoint.health.has(source) ? 1 : 0,
            );
    },
  });
  new Gauge({
    name: 'switchyard_endpoint_in_flight',
    help: 'Calls with an attempt open on the endpoint.',
    labelNames: ['cluster', 'endpoint'],
    registers,
    collect() {
      this.reset();
      for (const cluster of clusters())
        for (const endpoint of cluster.endpoints)
          this.set({ cluster: cluster.name, endpoint: endpoint.address }, endpoint.inFlight);
    },
  });
}
