/**
 * Outcome-sink micro-benchmark: CPU nanoseconds per call of
 * `CallMetrics.callStarted` + `CallMetrics.record` and of `AccessLog.record`,
 * on the outcome of a unary gRPC call to a known method (OK, routed, one of
 * three endpoints in turn). The access log's logger is made by
 * `createLogger` (as the CLI makes it, so the hand-written line is used),
 * twice: with the buffered stdout's batches (line-batch.ts, the line's parts
 * encoded into the batch; full batches dropped) and with a plain destination
 * that encodes each line's string into a scratch buffer and drops it (the
 * path of any other destination: the line's string is joined and flattened).
 * Run: `npm run build && node dist/bench/sinks-bench.js [--calls 1000000] [--rounds 5]`.
 * CPU time, not wall time: the machine may be shared. A benchmark, never a test.
 */
import { randomUUID } from 'node:crypto';
import { Writable } from 'node:stream';
import { parseArgs } from 'node:util';
import type { DestinationStream } from 'pino';
import { Registry } from 'prom-client';
import type { RequestHead } from '../src/listener/downstream-call.js';
import { AccessLog } from '../src/log/access-log.js';
import { LineBatch } from '../src/log/line-batch.js';
import { createLogger } from '../src/log/logger.js';
import { lineWriter } from '../src/log/pino-line.js';
import { CallMetrics } from '../src/metrics/call-metrics.js';
import type { CallOutcome } from '../src/outcome/call-outcome.js';
import type { Route } from '../src/router/route-table.js';
import type { Endpoint } from '../src/upstream/endpoint.js';

const { values } = parseArgs({
  options: {
    calls: { type: 'string', default: '1000000' },
    rounds: { type: 'string', default: '5' },
  },
});
const CALLS = Number(values.calls);
const ROUNDS = Number(values.rounds);

/** The strings a real call carries are the same objects call after call (config, HPACK table). */
const ENDPOINTS = ['10.0.0.11:50051', '10.0.0.12:50051', '10.0.0.13:50051'];
const endpointRef = Object.create(null) as Endpoint;
const REQUEST_IDS = Array.from({ length: 4096 }, () => randomUUID());
/** Handling times around a millisecond, a few slower. */
const DURATIONS_MS = Array.from({ length: 4096 }, (_, i) =>
  i % 50 === 0 ? 20 + Math.random() * 30 : 0.3 + Math.random() * 1.5,
);

const route = { name: 'echo', grpcOnly: true } as Route;
const head: RequestHead = {
  method: 'POST',
  path: '/echo.v1.Echo/Unary',
  authority: 'echo.default.svc.cluster.local:50051',
  scheme: 'http',
  headers: {},
  isGrpc: true,
  endStream: false,
  remoteAddress: '10.0.0.2',
  listener: 'main',
  header: () => undefined,
};

function outcome(i: number): CallOutcome {
  return {
    requestId: REQUEST_IDS[i & 4095] ?? '',
    listener: head.listener,
    clientSubject: undefined,
    method: head.method,
    path: head.path,
    authority: head.authority,
    grpc: true,
    route: route.name,
    grpcRoute: true,
    cluster: 'echo-backends',
    endpoint: ENDPOINTS[i % 3],
    endpointRef,
    source: 'upstream',
    grpcStatus: 0,
    httpStatus: 200,
    error: undefined,
    errorMessage: undefined,
    durationMs: DURATIONS_MS[i & 4095] ?? 1,
    bytesIn: 17,
    bytesOut: 22,
    messagesIn: 1,
    messagesOut: 1,
    attempts: 1,
    retries: 0,
    earlierAttempts: [],
  };
}

/** Encodes each line into one reused buffer (as the buffered stdout does) and drops it. */
function discardingDestination(): Writable & { bytes: number } {
  const scratch = Buffer.allocUnsafeSlow(64 * 1024);
  const destination = Object.assign(
    new Writable({ write: (_chunk, _encoding, callback) => callback() }),
    { bytes: 0 },
  );
  destination.write = (line: string): boolean => {
    destination.bytes += scratch.write(line, 0, 'utf8');
    return true;
  };
  return destination;
}

function cpuNanos(): number {
  const usage = process.cpuUsage();
  return (usage.user + usage.system) * 1000;
}

/** CPU ns per call of `body` over CALLS calls (outcome objects built outside the timing). */
function measure(body: (o: CallOutcome) => void, batch: readonly CallOutcome[][]): number {
  let spent = 0;
  for (const outcomes of batch) {
    const start = cpuNanos();
    for (const o of outcomes) body(o);
    spent += cpuNanos() - start;
  }
  return spent / CALLS;
}

/** The outcomes, built ahead in slices so that building them is not timed. */
function outcomeBatches(): CallOutcome[][] {
  const batches: CallOutcome[][] = [];
  const size = 100_000;
  for (let done = 0; done < CALLS; done += size) {
    const n = Math.min(size, CALLS - done);
    batches.push(Array.from({ length: n }, (_, i) => outcome(done + i)));
  }
  return batches;
}

/** Bytes of the full batches the batched access log handed on (and dropped). */
let batchedBytes = 0;
/** The buffered stdout's batching, with full batches dropped. */
const batch = new LineBatch({
  write: (chunk) => void (batchedBytes += chunk.length),
  flushSync: () => undefined,
});

function accessLogTo(destination: DestinationStream): AccessLog {
  const logger = createLogger({ level: 'info', pretty: false, destination }).child({
    module: 'access',
  });
  if (lineWriter(logger, 'call') === undefined) throw new Error('not the hand-written line path');
  return new AccessLog(logger);
}

const metrics = new CallMetrics(new Registry());
const destination = discardingDestination();
const accessLog = accessLogTo(destination);
const batchedAccessLog = accessLogTo(batch);

const metricsNs: number[] = [];
const accessNs: number[] = [];
const batchedNs: number[] = [];
for (let round = 0; round < ROUNDS; round++) {
  const batches = outcomeBatches();
  metricsNs.push(
    measure((o) => {
      metrics.callStarted(head, route);
      metrics.record(o);
    }, batches),
  );
  accessNs.push(measure((o) => accessLog.record(o), batches));
  batchedNs.push(measure((o) => batchedAccessLog.record(o), batches));
}

function median(xs: readonly number[]): number {
  const sorted = [...xs].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)] ?? Number.NaN;
}

const show = (xs: readonly number[]): string =>
  `median ${median(xs).toFixed(0)}, min ${Math.min(...xs).toFixed(0)}  (${xs.map((x) => x.toFixed(0)).join(' ')})`;
console.log(`${CALLS} calls x ${ROUNDS} rounds, CPU ns per call`);
console.log(`CallMetrics callStarted+record: ${show(metricsNs)}`);
console.log(`AccessLog.record, string:       ${show(accessNs)}`);
console.log(`AccessLog.record, batched:      ${show(batchedNs)}`);
if (destination.bytes === 0) throw new Error('the access log wrote nothing');
if (batchedBytes === 0) throw new Error('the batched access log wrote nothing');
