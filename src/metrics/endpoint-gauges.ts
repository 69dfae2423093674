/**
 * Endpoint state as gauges, read from the current snapshot's clusters at
 * each scrape (prom-client `collect`): nothing is updated on the data path,
 * and endpoints that left (a reload, DNS discovery) vanish from the output.
 */
import { Counter, Gauge, type Registry } from 'prom-client';
import { HEALTH_SOURCES } from '../health/health-flags.js';
import type { Cluster } from '../upstream/cluster.js';
import type { Endpoint } from '../upstream/endpoint.js';

type EndpointLabel = 'cluster' | 'endpoint' | 'source';
type SetGauge = (labels: Partial<Record<EndpointLabel, string>>, value: number) => void;

/** A gauge refilled at each scrape by visiting every endpoint of every cluster. */
function endpointGauge(
  registry: Registry,
  clusters: () => Iterable<Cluster>,
  spec: { name: string; help: string; labelNames: EndpointLabel[] },
  fill: (set: SetGauge, cluster: Cluster, endpoint: Endpoint) => void,
): void {
  new Gauge({
    ...spec,
    registers: [registry],
    collect() {
      this.reset();
      const set: SetGauge = (labels, value) => this.set(labels, value);
      for (const cluster of clusters())
        for (const endpoint of cluster.endpoints) fill(set, cluster, endpoint);
    },
  });
}

export function registerEndpointGauges(
  registry: Registry,
  clusters: () => Iterable<Cluster>,
): void {
  endpointGauge(
    registry,
    clusters,
    {
      name: 'switchyard_endpoint_available',
      help: 'Whether the endpoint takes new calls (1) or a health flag holds it out (0).',
      labelNames: ['cluster', 'endpoint'],
    },
    (set, cluster, endpoint) =>
      set({ cluster: cluster.name, endpoint: endpoint.address }, endpoint.available ? 1 : 0),
  );
  endpointGauge(
    registry,
    clusters,
    {
      name: 'switchyard_endpoint_health_flag',
      help: 'Whether this health source holds the endpoint out (1) or not (0).',
      labelNames: ['cluster', 'endpoint', 'source'],
    },
    (set, cluster, endpoint) => {
      for (const source of HEALTH_SOURCES) {
        set(
          { cluster: cluster.name, endpoint: endpoint.address, source },
          endpoint.health.has(source) ? 1 : 0,
        );
      }
    },
  );
  endpointGauge(
    registry,
    clusters,
    {
      name: 'switchyard_endpoint_in_flight',
      help: 'Calls with an attempt open on the endpoint.',
      labelNames: ['cluster', 'endpoint'],
    },
    (set, cluster, endpoint) =>
      set({ cluster: cluster.name, endpoint: endpoint.address }, endpoint.inFlight),
  );
  endpointGauge(
    registry,
    clusters,
    {
      name: 'switchyard_upstream_connections',
      help: 'HTTP/2 connections open to the endpoint (connecting ones included).',
      labelNames: ['cluster', 'endpoint'],
    },
    (set, cluster, endpoint) =>
      set({ cluster: cluster.name, endpoint: endpoint.address }, endpoint.pool.sessions.length),
  );
  endpointGauge(
    registry,
    clusters,
    {
      name: 'switchyard_upstream_streams',
      help: 'HTTP/2 streams open to the endpoint, over all its connections.',
      labelNames: ['cluster', 'endpoint'],
    },
    (set, cluster, endpoint) => {
      let streams = 0;
      for (const session of endpoint.pool.sessions) streams += session.activeStreams;
      set({ cluster: cluster.name, endpoint: endpoint.address }, streams);
    },
  );
  new Counter<'cluster' | 'endpoint'>({
    name: 'switchyard_upstream_connect_failures_total',
    help: 'Connections to the endpoint that failed before the backend’s SETTINGS arrived (refused, timed out, closed early).',
    labelNames: ['cluster', 'endpoint'],
    registers: [registry],
    collect() {
      this.reset();
      for (const cluster of clusters()) {
        for (const endpoint of cluster.endpoints) {
          const labels = { cluster: cluster.name, endpoint: endpoint.address };
          this.inc(labels, endpoint.pool.connectFailures);
        }
      }
    },
  });
}
