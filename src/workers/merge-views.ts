/**
 * The primary's admin views over its workers (docs/workers.md): `/metrics`
 * aggregates every worker's registry with the primary's own (prom-client's
 * AggregatorRegistry), and `/clusters` merges every worker's view of each
 * endpoint with the primary's health checks. Workers' reports arrive as
 * `unknown` and are checked here before use.
 */
import { AggregatorRegistry, type Aggregator } from 'prom-client';
import type { ClustersView, EndpointView } from '../admin/clusters-view.js';
import { isRecord } from '../config/is-record.js';

/** A metric as `Registry.getMetricsAsJSON()` gives it (the part aggregation reads). */
export interface MetricJson {
  readonly name: string;
  readonly help: string;
  readonly type: string;
  readonly aggregator: Aggregator;
  readonly values: readonly unknown[];
}

const AGGREGATORS: ReadonlySet<string> = new Set(['omit', 'sum', 'first', 'min', 'max', 'average']);

const METRIC_TYPES: ReadonlySet<string> = new Set(['counter', 'gauge', 'histogram', 'summary']);

/**
 * The primary's own metrics, not the workers': config reloads happen in the
 * primary (workers only apply what it sends).
 */
const PRIMARY_ONLY_PREFIX = 'switchyard_config_';

/**
 * How per-worker series of the same labels combine where a sum would be
 * wrong: an endpoint is available only if it is in every worker, and a
 * health flag is set if any worker has it set.
 */
const AGGREGATOR_OVERRIDES: ReadonlyMap<string, Aggregator> = new Map([
  ['switchyard_endpoint_available', 'min'],
  ['switchyard_endpoint_health_flag', 'max'],
]);

/** One sample, or undefined; a NaN value (a gauge not set yet) crosses JSON as null. */
function metricValue(value: unknown): unknown {
  if (!isRecord(value)) return undefined;
  if (value['labels'] !== undefined && !isRecord(value['labels'])) return undefined;
  if (typeof value['value'] === 'number') return value;
  return value['value'] === null ? { ...value, value: Number.NaN } : undefined;
}

/**
 * A worker's `getMetricsAsJSON()` report (undefined when it is not a list);
 * a metric that is malformed is left out, the others kept.
 */
export function parseWorkerMetrics(body: unknown): MetricJson[] | undefined {
  if (!Array.isArray(body)) return undefined;
  const metrics: MetricJson[] = [];
  for (const item of body as unknown[]) {
    const metric = parseMetric(item);
    if (metric !== undefined) metrics.push(metric);
  }
  return metrics;
}

function parseMetric(item: unknown): MetricJson | undefined {
  if (!isRecord(item)) return undefined;
  const { name, help, type, aggregator, values } = item;
  if (typeof name !== 'string' || typeof help !== 'string' || typeof type !== 'string')
    return undefined;
  if (!METRIC_TYPES.has(type) || typeof aggregator !== 'string' || !AGGREGATORS.has(aggregator))
    return undefined;
  if (!Array.isArray(values)) return undefined;
  const samples = (values as unknown[]).map(metricValue);
  if (samples.some((sample) => sample === undefined)) return undefined;
  return { name, help, type, aggregator: aggregator as Aggregator, values: samples };
}

/** The Prometheus exposition of the primary's metrics and every worker's, aggregated. */
export async function aggregateMetrics(
  primary: readonly MetricJson[],
  workers: readonly (readonly MetricJson[])[],
): Promise<{ contentType: string; body: string }> {
  const adjust = (metric: MetricJson): MetricJson => {
    const aggregator = AGGREGATOR_OVERRIDES.get(metric.name);
    return aggregator === undefined ? metric : { ...metric, aggregator };
  };
  const sets = [
    primary.map(adjust),
    ...workers.map((metrics) =>
      metrics.filter((m) => !m.name.startsWith(PRIMARY_ONLY_PREFIX)).map(adjust),
    ),
  ];
  const registry = AggregatorRegistry.aggregate(sets);
  return { contentType: registry.contentType, body: await registry.metrics() };
}

/** One worker's view of one endpoint in the merged `/clusters`. */
export interface WorkerEndpointView {
  readonly worker: number;
  readonly available: boolean;
  readonly flags: readonly string[];
  readonly in_flight: number;
  readonly outlier: unknown;
}

export interface MergedEndpointView extends Omit<EndpointView, 'flags'> {
  readonly flags: readonly string[];
  readonly workers: readonly WorkerEndpointView[];
}

interface WorkerEndpoint {
  readonly address: string;
  readonly available: boolean;
  readonly flags: readonly string[];
  readonly in_flight: number;
  readonly outlier: unknown;
}

function workerEndpoint(value: unknown): WorkerEndpoint | undefined {
  if (!isRecord(value)) return undefined;
  const { address, available, flags, in_flight: inFlight, outlier } = value;
  if (typeof address !== 'string' || typeof available !== 'boolean') return undefined;
  if (!Array.isArray(flags) || !(flags as unknown[]).every((f) => typeof f === 'string'))
    return undefined;
  if (typeof inFlight !== 'number') return undefined;
  return { address, available, flags: flags as string[], in_flight: inFlight, outlier };
}

/** A worker's `/clusters` report as cluster → address → endpoint, or undefined. */
export function parseWorkerClusters(
  body: unknown,
): Map<string, Map<string, WorkerEndpoint>> | undefined {
  if (!isRecord(body) || !Array.isArray(body['clusters'])) return undefined;
  const clusters = new Map<string, Map<string, WorkerEndpoint>>();
  for (const cluster of body['clusters'] as unknown[]) {
    if (!isRecord(cluster) || typeof cluster['name'] !== 'string') return undefined;
    if (!Array.isArray(cluster['endpoints'])) return undefined;
    const endpoints = new Map<string, WorkerEndpoint>();
    for (const item of cluster['endpoints'] as unknown[]) {
      const endpoint = workerEndpoint(item);
      if (endpoint === undefined) return undefined;
      endpoints.set(endpoint.address, endpoint);
    }
    clusters.set(cluster['name'], endpoints);
  }
  return clusters;
}

/**
 * The primary's view (its health checks) merged with every worker's: an
 * endpoint is available when the primary and every worker have it
 * available; flags are the union; calls in flight the sum; `outlier` the
 * view of a worker that has it ejected (else the first worker's); and each
 * worker's own view under `workers`.
 */
export function mergeClusters(
  primary: ClustersView,
  workers: readonly {
    readonly worker: number;
    readonly clusters: Map<string, Map<string, WorkerEndpoint>>;
  }[],
): { clusters: { name: string; lb_policy: string; endpoints: MergedEndpointView[] }[] } {
  return {
    clusters: primary.clusters.map((cluster) => ({
      name: cluster.name,
      lb_policy: cluster.lb_policy,
      endpoints: cluster.endpoints.map((endpoint) => {
        const views: WorkerEndpointView[] = [];
        for (const { worker, clusters } of workers) {
          const seen = clusters.get(cluster.name)?.get(endpoint.address);
          if (seen === undefined) continue;
          const { available, flags, in_flight: inFlight, outlier } = seen;
          views.push({ worker, available, flags, in_flight: inFlight, outlier });
        }
        const flags = new Set<string>(endpoint.flags);
        for (const view of views) for (const flag of view.flags) flags.add(flag);
        const ejected = views.find(
          (v) => isRecord(v.outlier) && typeof v.outlier['ejected_until'] === 'string',
        );
        return {
          address: endpoint.address,
          available: endpoint.available && views.every((v) => v.available),
          flags: [...flags],
          in_flight: views.reduce((sum, v) => sum + v.in_flight, 0),
          health_check: endpoint.health_check,
          outlier: (ejected ?? views[0])?.outlier ?? null,
          workers: views,
        };
      }),
    })),
  };
}
