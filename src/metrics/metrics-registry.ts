/**
 * One prom-client Registry per Switchyard (never the global default: several
 * proxies can run in one process, as in the tests), with Node's process
 * metrics under the `switchyard_` prefix.
 */
import { collectDefaultMetrics, Registry } from 'prom-client';

export const METRICS_PREFIX = 'switchyard_';

/**
 * Default metrics dropped because `promtool check metrics` flags them: gauges
 * whose names end in `_total`, which Prometheus reserves for counters. Nothing
 * is lost: each is the sum over the `type` label of the gauge of the same
 * name without `_total` (`switchyard_nodejs_active_handles{type}`...).
 */
export const DROPPED_DEFAULT_METRICS: readonly string[] = [
  'nodejs_active_handles_total',
  'nodejs_active_requests_total',
  'nodejs_active_resources_total',
];

export function createMetricsRegistry(): Registry {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry, prefix: METRICS_PREFIX });
  for (const name of DROPPED_DEFAULT_METRICS)
    registry.removeSingleMetric(`${METRICS_PREFIX}${name}`);
  return registry;
}
