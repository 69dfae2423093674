/**
 * Per-call metrics, as an OutcomeSink: every finished call's CallOutcome
 * updates the counters and the latency histogram; `callStarted` is the one
 * hook at accept (an outcome only exists once a call has ended). Metric
 * names and labels: docs/metrics.md. Every label value is bounded: gRPC
 * service and method from configured routes (GrpcMethodLabeler), status
 * names from the gRPC code table, error codes from ERROR_TABLE, clusters and
 * endpoints from config and discovery.
 */
import { Counter, type Registry } from 'prom-client';
import type { RequestHead } from '../listener/downstream-call.js';
import type { CallOutcome, OutcomeSink } from '../outcome/call-outcome.js';
import type { Route } from '../router/route-table.js';
import { ClusterSeries, type ClusterMetrics } from './cluster-series.js';
import { DirectionTotals } from './direction-totals.js';
import { GrpcMethodLabeler, type GrpcMethodLabels } from './grpc-method-labels.js';
import { MethodSeries, methodKey, type MethodMetrics } from './method-series.js';
import { SummedCounter } from './summed-counter.js';
import { SummedHistogram } from './summed-histogram.js';

export { grpcCodeLabel } from './grpc-code-labels.js';

/** Handling-time buckets in seconds: 1 ms to 30 s. */
export const HANDLING_SECONDS_BUCKETS: readonly number[] = [
  0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30,
];

/** The `endpoint` label of a call that never got an endpoint (no route, none available...). */
export const NO_ENDPOINT_LABEL = 'none';

export class CallMetrics implements OutcomeSink {
  readonly #labeler = new GrpcMethodLabeler();
  /**
   * The counters every call adds to are summed in plain cells and read at
   * scrape (summed-counter.ts, summed-histogram.ts, direction-totals.ts);
   * a call reaches its cells through its method's and cluster's series.
   */
  readonly #method: MethodMetrics;
  readonly #cluster: ClusterMetrics;
  /**
   * By labels object: the labeler hands out one object per label set. A
   * WeakMap, and a by-value map behind it, so that a labels object that is
   * not reused would cost a lookup, never a leak or a second series.
   */
  readonly #methodSeries = new WeakMap<GrpcMethodLabels, MethodSeries>();
  readonly #methodSeriesByKey = new Map<string, MethodSeries>();
  readonly #clusterSeries = new Map<string, ClusterSeries>();
  readonly #bytes: DirectionTotals<'listener'>;
  readonly #attemptsGivenUp: Counter<'cluster' | 'endpoint' | 'then'>;
  readonly #timeouts: Counter<'cluster' | 'kind'>;
  readonly #localReplies: Counter<'error'>;

  constructor(registry: Registry) {
    const registers = [registry];
    const started = new SummedCounter(registry, {
      name: 'grpc_server_started_total',
      help: 'gRPC calls accepted by the proxy.',
      labelNames: ['grpc_service', 'grpc_method'],
    });
    const handled = new SummedCounter(registry, {
      name: 'grpc_server_handled_total',
      help: 'gRPC calls finished, by the status the client saw.',
      labelNames: ['grpc_service', 'grpc_method', 'grpc_code'],
    });
    const handling = new SummedHistogram(registry, {
      name: 'grpc_server_handling_seconds',
      help: 'Time from accepting a gRPC call to its end, in seconds.',
      labelNames: ['grpc_service', 'grpc_method'],
      buckets: HANDLING_SECONDS_BUCKETS,
    });
    const messages = new DirectionTotals(registry, ['grpc_service', 'grpc_method'], {
      received: {
        name: 'grpc_server_msg_received_total',
        help: 'gRPC messages received from clients (counted when a call ends).',
      },
      sent: {
        name: 'grpc_server_msg_sent_total',
        help: 'gRPC messages sent to clients (counted when a call ends).',
      },
    });
    this.#bytes = new DirectionTotals(registry, ['listener'], {
      received: {
        name: 'switchyard_downstream_received_bytes_total',
        help: 'Request body bytes received from clients, by listener (counted when a call ends).',
      },
      sent: {
        name: 'switchyard_downstream_sent_bytes_total',
        help: 'Response body bytes sent to clients, by listener (counted when a call ends).',
      },
    });
    this.#method = { started, handled, handling, messages };
    const calls = new SummedCounter(registry, {
      name: 'switchyard_upstream_calls_total',
      help: 'Calls routed to a cluster, by the endpoint of their last attempt and who answered.',
      labelNames: ['cluster', 'endpoint', 'source'],
    });
    const attempts = new SummedCounter(registry, {
      name: 'switchyard_upstream_attempts_total',
      help: 'Upstream attempts (every retry and transparent retry adds one), by cluster.',
      labelNames: ['cluster'],
    });
    const retries = new SummedCounter(registry, {
      name: 'switchyard_upstream_retries_total',
      help: 'Retries made under a route retry policy (transparent retries not counted), by cluster.',
      labelNames: ['cluster'],
    });
    this.#cluster = { calls, attempts, retries };
    this.#attemptsGivenUp = new Counter({
      name: 'switchyard_upstream_attempts_retried_total',
      help: 'Attempts that failed and were given up for another attempt, by endpoint and how the call went on (retry or transparent).',
      labelNames: ['cluster', 'endpoint', 'then'],
      registers,
    });
    this.#timeouts = new Counter({
      name: 'switchyard_upstream_timeouts_total',
      help: 'Timeouts by cluster: kind="deadline" for calls whose deadline passed, kind="per_try" for attempts past per_try_timeout.',
      labelNames: ['cluster', 'kind'],
      registers,
    });
    this.#localReplies = new Counter({
      name: 'switchyard_local_replies_total',
      help: 'Calls the proxy answered itself, by ProxyError code.',
      labelNames: ['error'],
      registers,
    });
  }

  /** A call was accepted and goes to ProxyCall; `route` is what the snapshot's table matches. */
  callStarted(head: RequestHead, route: Route | undefined): void {
    if (!head.isGrpc) return;
    this.#methodSeriesOf(head.path, route?.grpcOnly ?? false).started();
  }

  record(outcome: CallOutcome): void {
    if (outcome.grpc) {
      this.#methodSeriesOf(outcome.path, outcome.grpcRoute).finished(
        outcome.grpcStatus,
        outcome.durationMs / 1000,
        outcome.messagesIn,
        outcome.messagesOut,
      );
    }
    const listener = outcome.listener;
    const bytes = this.#bytes.find(listener) ?? this.#bytes.cell(listener, { listener });
    bytes.received += outcome.bytesIn;
    bytes.sent += outcome.bytesOut;
    const cluster = outcome.cluster;
    if (cluster !== undefined) {
      const endpoint = outcome.endpoint ?? NO_ENDPOINT_LABEL;
      let series = this.#clusterSeries.get(cluster);
      if (series === undefined) {
        series = new ClusterSeries(this.#cluster, cluster);
        this.#clusterSeries.set(cluster, series);
      }
      series.called(endpoint, outcome.source, outcome.attempts, outcome.retries);
      let perTry = outcome.error === 'upstream_timeout' ? 1 : 0;
      for (const attempt of outcome.earlierAttempts) {
        this.#attemptsGivenUp.inc({ cluster, endpoint: attempt.endpoint, then: attempt.then });
        if (attempt.error === 'upstream_timeout') perTry++;
      }
      if (perTry > 0) this.#timeouts.inc({ cluster, kind: 'per_try' }, perTry);
      if (outcome.error === 'deadline_exceeded') this.#timeouts.inc({ cluster, kind: 'deadline' });
    }
    if (outcome.source === 'local') this.#localReplies.inc({ error: outcome.error ?? 'internal' });
  }

  #methodSeriesOf(path: string, grpcRoute: boolean): MethodSeries {
    const labels = this.#labeler.labels(path, grpcRoute);
    let series = this.#methodSeries.get(labels);
    if (series === undefined) {
      const key = methodKey(labels);
      series = this.#methodSeriesByKey.get(key);
      if (series === undefined) {
        series = new MethodSeries(this.#method, labels);
        this.#methodSeriesByKey.set(key, series);
      }
      this.#methodSeries.set(labels, series);
    }
    return series;
  }
}
