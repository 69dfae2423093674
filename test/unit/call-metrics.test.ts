// CallMetrics keeps its per-call counts in cells resolved per method and
// cluster; /metrics must read exactly as when every call went to
// prom-client's own counters and histogram (the reference below: the
// straightforward implementation), series order included.
import { Counter, Histogram, Registry } from 'prom-client';
import t from 'tap';
import type { RequestHead } from '../../src/listener/downstream-call.js';
import {
  CallMetrics,
  grpcCodeLabel,
  HANDLING_SECONDS_BUCKETS,
  NO_ENDPOINT_LABEL,
} from '../../src/metrics/call-metrics.js';
import { GrpcMethodLabeler } from '../../src/metrics/grpc-method-labels.js';
import type { CallOutcome, OutcomeSource } from '../../src/outcome/call-outcome.js';
import type { Route } from '../../src/router/route-table.js';
import type { Endpoint } from '../../src/upstream/endpoint.js';

/** Every call straight into prom-client, with the same names, help and labels. */
function reference(registry: Registry): {
  started(head: RequestHead, route: Route | undefined): void;
  record(o: CallOutcome): void;
} {
  const registers = [registry];
  const method = ['grpc_service', 'grpc_method'];
  const counter = (name: string, help: string, labelNames: string[]): Counter =>
    new Counter({ name, help, labelNames, registers });
  const started = counter('grpc_server_started_total', 'gRPC calls accepted by the proxy.', method);
  const handled = counter(
    'grpc_server_handled_total',
    'gRPC calls finished, by the status the client saw.',
    [...method, 'grpc_code'],
  );
  const handling = new Histogram({
    name: 'grpc_server_handling_seconds',
    help: 'Time from accepting a gRPC call to its end, in seconds.',
    labelNames: method,
    buckets: [...HANDLING_SECONDS_BUCKETS],
    registers,
  });
  const msgIn = counter(
    'grpc_server_msg_received_total',
    'gRPC messages received from clients (counted when a call ends).',
    method,
  );
  const msgOut = counter(
    'grpc_server_msg_sent_total',
    'gRPC messages sent to clients (counted when a call ends).',
    method,
  );
  const bytesIn = counter(
    'switchyard_downstream_received_bytes_total',
    'Request body bytes received from clients, by listener (counted when a call ends).',
    ['listener'],
  );
  const bytesOut = counter(
    'switchyard_downstream_sent_bytes_total',
    'Response body bytes sent to clients, by listener (counted when a call ends).',
    ['listener'],
  );
  const calls = counter(
    'switchyard_upstream_calls_total',
    'Calls routed to a cluster, by the endpoint of their last attempt and who answered.',
    ['cluster', 'endpoint', 'source'],
  );
  const attempts = counter(
    'switchyard_upstream_attempts_total',
    'Upstream attempts (every retry and transparent retry adds one), by cluster.',
    ['cluster'],
  );
  const retries = counter(
    'switchyard_upstream_retries_total',
    'Retries made under a route retry policy (transparent retries not counted), by cluster.',
    ['cluster'],
  );
  const givenUp = counter(
    'switchyard_upstream_attempts_retried_total',
    'Attempts that failed and were given up for another attempt, by endpoint and how the call went on (retry or transparent).',
    ['cluster', 'endpoint', 'then'],
  );
  const timeouts = counter(
    'switchyard_upstream_timeouts_total',
    'Timeouts by cluster: kind="deadline" for calls whose deadline passed, kind="per_try" for attempts past per_try_timeout.',
    ['cluster', 'kind'],
  );
  const localReplies = counter(
    'switchyard_local_replies_total',
    'Calls the proxy answered itself, by ProxyError code.',
    ['error'],
  );
  const labeler = new GrpcMethodLabeler();
  return {
    started(head, route) {
      if (head.isGrpc) started.inc({ ...labeler.labels(head.path, route?.grpcOnly ?? false) });
    },
    record(o) {
      if (o.grpc) {
        const labels = labeler.labels(o.path, o.grpcRoute);
        handled.inc({ ...labels, grpc_code: grpcCodeLabel(o.grpcStatus) });
        handling.observe({ ...labels }, o.durationMs / 1000);
        msgIn.inc({ ...labels }, o.messagesIn);
        msgOut.inc({ ...labels }, o.messagesOut);
      }
      bytesIn.inc({ listener: o.listener }, o.bytesIn);
      bytesOut.inc({ listener: o.listener }, o.bytesOut);
      if (o.source === 'local') localReplies.inc({ error: o.error ?? 'internal' });
      const cluster = o.cluster;
      if (cluster === undefined) return;
      calls.inc({ cluster, endpoint: o.endpoint ?? NO_ENDPOINT_LABEL, source: o.source });
      if (o.attempts > 0) attempts.inc({ cluster }, o.attempts);
      if (o.retries > 0) retries.inc({ cluster }, o.retries);
      let perTry = o.error === 'upstream_timeout' ? 1 : 0;
      for (const a of o.earlierAttempts) {
        givenUp.inc({ cluster, endpoint: a.endpoint, then: a.then });
        if (a.error === 'upstream_timeout') perTry++;
      }
      if (perTry > 0) timeouts.inc({ cluster, kind: 'per_try' }, perTry);
      if (o.error === 'deadline_exceeded') timeouts.inc({ cluster, kind: 'deadline' });
    },
  };
}

const endpointRef = Object.create(null) as Endpoint;

void t.test('/metrics reads as with every call counted by prom-client', async (t) => {
  let seed = 42;
  const random = (): number => (seed = (seed * 16807) % 2147483647) / 2147483647;
  function pick<T>(items: readonly T[]): T {
    return items[Math.floor(random() * items.length)] as T;
  }
  const paths = ['/a.A/Get', '/a.A/Put', '/a.A/not-a-name', '/b.B/X', '/nosvc'];
  // More names than a service may have (100): the later ones are refused.
  for (let m = 0; m < 120; m++) paths.push(`/c.C/M${m}`);
  const fast = new Registry();
  const slow = new Registry();
  const metrics = new CallMetrics(fast);
  const expected = reference(slow);
  for (let i = 0; i < 6000; i++) {
    const path = pick(paths);
    const grpc = random() < 0.9;
    const grpcRoute = random() < 0.8;
    const route = random() < 0.1 ? undefined : ({ name: 'r', grpcOnly: grpcRoute } as Route);
    const head = { path, isGrpc: grpc, listener: 'l' } as RequestHead;
    metrics.callStarted(head, route);
    expected.started(head, route);
    const o: CallOutcome = {
      requestId: 'id',
      listener: pick(['l1', 'l2']),
      method: 'POST',
      path,
      authority: 'a',
      grpc,
      route: 'r',
      grpcRoute,
      cluster: pick([undefined, 'c1', 'c2']),
      endpoint: pick([undefined, 'e1', 'e2', 'e3']),
      endpointRef,
      source: pick<OutcomeSource>(['upstream', 'local', 'cancelled']),
      grpcStatus: pick([undefined, 0, 0, 0, 14, 4, 99, 1.5, -1, 16]),
      httpStatus: 200,
      error: pick([
        undefined,
        undefined,
        'upstream_timeout',
        'deadline_exceeded',
        'no_route',
      ] as const),
      errorMessage: undefined,
      durationMs: pick([0.2, 1, 2.5, 1000, 30000, 40000, random() * 100, random() * 5]),
      bytesIn: Math.floor(random() * 100),
      bytesOut: Math.floor(random() * 100),
      messagesIn: Math.floor(random() * 3),
      messagesOut: Math.floor(random() * 3),
      attempts: Math.floor(random() * 3),
      retries: Math.floor(random() * 2),
      earlierAttempts:
        random() < 0.1
          ? [
              {
                endpoint: 'e1',
                endpointRef,
                source: 'local',
                grpcStatus: 14,
                httpStatus: undefined,
                error: pick([undefined, 'upstream_timeout'] as const),
                durationMs: 1,
                then: 'retry',
              },
            ]
          : [],
    };
    metrics.record(o);
    expected.record(o);
    if (i % 1500 === 3) t.equal(await fast.metrics(), await slow.metrics(), `after ${i + 1} calls`);
  }
  t.equal(await fast.metrics(), await slow.metrics());
  t.same(await fast.getMetricsAsJSON(), await slow.getMetricsAsJSON());
});
