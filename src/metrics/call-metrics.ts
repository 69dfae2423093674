/**
 * Per-call metrics, as an OutcomeSink: every finished call's CallOutcome
 * updates the counters and the latency histogram; `callStarted` is the one
 * hook at accept (an outcome only exists once a call has ended). Metric
 * names and labels: docs/metrics.md. Every label value is bounded: gRPC
 * service and method from configured routes (GrpcMethodLabeler), status
 * names from the gRPC code table, error codes from ERROR_TABLE, clusters and
 * endpoints from config and discovery.
 */
import { Counter, Histogram, type Registry } from 'prom-client';
import { GrpcStatus, grpcStatusName } from '../grpc/status.js';
import type { RequestHead } from '../listener/downstream-call.js';
import type { CallOutcome, OutcomeSink } from '../outcome/call-outcome.js';
import type { Route } from '../router/route-table.js';
import { DirectionTotals } from './direction-totals.js';
import { GrpcMethodLabeler } from './grpc-method-labels.js';
import { SummedCounter } from './summed-counter.js';

/** Handling-time buckets in seconds: 1 ms to 30 s. */
export const HANDLING_SECONDS_BUCKETS: readonly number[] = [
  0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30,
];

/** The `endpoint` label of a call that never got an endpoint (no route, none available...). */
export const NO_ENDPOINT_LABEL = 'none';

type MethodLabel = 'grpc_service' | 'grpc_method';

export class CallMetrics implements OutcomeSink {
  readonly #labeler = new GrpcMethodLabeler();
  /** The counters every call adds to: summed in maps, read at scrape (summed-counter.ts). */
  readonly #started: SummedCounter<MethodLabel>;
  readonly #handled: SummedCounter<MethodLabel | 'grpc_code'>;
  readonly #handling: Histogram<MethodLabel>;
  /** Messages and body bytes, summed per call and read at scrape (direction-totals.ts). */
  readonly #messages: DirectionTotals<MethodLabel>;
  readonly #bytes: DirectionTotals<'listener'>;
  readonly #upstreamCalls: SummedCounter<'cluster' | 'endpoint' | 'source'>;
  readonly #attempts: SummedCounter<'cluster'>;
  readonly #retries: SummedCounter<'cluster'>;
  readonly #attemptsGivenUp: Counter<'cluster' | 'endpoint' | 'then'>;
  readonly #timeouts: Counter<'cluster' | 'kind'>;
  readonly #localReplies: Counter<'error'>;

  constructor(registry: Registry) {
    const registers = [registry];
    this.#started = new SummedCounter(registry, {
      name: 'grpc_server_started_total',
      help: 'gRPC calls accepted by the proxy.',
      labelNames: ['grpc_service', 'grpc_method'],
    });
    this.#handled = new SummedCounter(registry, {
      name: 'grpc_server_handled_total',
      help: 'gRPC calls finished, by the status the client saw.',
      labelNames: ['grpc_service', 'grpc_method', 'grpc_code'],
    });
    this.#handling = new Histogram({
      name: 'grpc_server_handling_seconds',
      help: 'Time from accepting a gRPC call to its end, in seconds.',
      labelNames: ['grpc_service', 'grpc_method'],
      buckets: [...HANDLING_SECONDS_BUCKETS],
      registers,
    });
    this.#messages = new DirectionTotals(registry, ['grpc_service', 'grpc_method'], {
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
    this.#upstreamCalls = new SummedCounter(registry, {
      name: 'switchyard_upstream_calls_total',
      help: 'Calls routed to a cluster, by the endpoint of their last attempt and who answered.',
      labelNames: ['cluster', 'endpoint', 'source'],
    });
    this.#attempts = new SummedCounter(registry, {
      name: 'switchyard_upstream_attempts_total',
      help: 'Upstream attempts (every retry and transparent retry adds one), by cluster.',
      labelNames: ['cluster'],
    });
    this.#retries = new SummedCounter(registry, {
      name: 'switchyard_upstream_retries_total',
      help: 'Retries made under a route retry policy (transparent retries not counted), by cluster.',
      labelNames: ['cluster'],
    });
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
    const labels = this.#labeler.labels(head.path, route?.grpcOnly ?? false);
    this.#started.add(methodKey(labels), labels);
  }

  record(outcome: CallOutcome): void {
    if (outcome.grpc) {
      const labels = this.#labeler.labels(outcome.path, outcome.grpcRoute);
      // Keyed by value: labels of a refused method name are a new object each time.
      const key = methodKey(labels);
      const code = grpcCodeLabel(outcome.grpcStatus);
      const handledKey = `${key}\n${code}`;
      if (!this.#handled.increment(handledKey)) {
        this.#handled.add(handledKey, { ...labels, grpc_code: code });
      }
      this.#handling.observe(labels, outcome.durationMs / 1000);
      this.#messages.add(key, labels, outcome.messagesIn, outcome.messagesOut);
    }
    const listener = outcome.listener;
    this.#bytes.add(listener, { listener }, outcome.bytesIn, outcome.bytesOut);
    if (outcome.cluster !== undefined) {
      const cluster = outcome.cluster;
      const endpoint = outcome.endpoint ?? NO_ENDPOINT_LABEL;
      const source = outcome.source;
      const callsKey = `${cluster}\n${endpoint}\n${source}`;
      if (!this.#upstreamCalls.increment(callsKey)) {
        this.#upstreamCalls.add(callsKey, { cluster, endpoint, source });
      }
      if (outcome.attempts > 0) this.#attempts.add(cluster, { cluster }, outcome.attempts);
      if (outcome.retries > 0) this.#retries.add(cluster, { cluster }, outcome.retries);
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
}

/** A method's labels by value; neither part contains a newline (names are path segments). */
function methodKey(labels: {
  readonly grpc_service: string;
  readonly grpc_method: string;
}): string {
  return `${labels.grpc_service}\n${labels.grpc_method}`;
}

/** The status name (`OK`, `UNAVAILABLE`); a code outside the table counts as UNKNOWN. */
export function grpcCodeLabel(status: number | undefined): string {
  if (status === undefined || !KNOWN_CODES.has(status)) return 'UNKNOWN';
  return grpcStatusName(status);
}

const KNOWN_CODES: ReadonlySet<number> = new Set(Object.values<number>(GrpcStatus));
