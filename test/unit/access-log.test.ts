// The access log's hand-written JSON line is byte for byte what pino makes
// of the same fields (the format docs and log consumers rely on), and loggers
// the fast path cannot match (a mixin, redaction) still get pino's line.
import { Writable } from 'node:stream';
import { pino, type Logger } from 'pino';
import t from 'tap';
import { msString } from '../../src/log/access-line.js';
import { AccessLog, accessLineObject } from '../../src/log/access-log.js';
import { BATCH_BYTES, LineBatch } from '../../src/log/line-batch.js';
import { lineWriter } from '../../src/log/pino-line.js';
import type { CallOutcome } from '../../src/outcome/call-outcome.js';
import type { Endpoint } from '../../src/upstream/endpoint.js';

/** Never read by the access log. */
const endpointRef = Object.create(null) as Endpoint;

const plain: CallOutcome = {
  requestId: 'b7a1c1f0-6a1e-4d0e-9a53-0d5cf1a3c0f1',
  listener: 'main',
  clientSubject: undefined,
  method: 'POST',
  path: '/echo.Echo/Unary',
  authority: '127.0.0.1:40001',
  grpc: true,
  route: 'all',
  grpcRoute: true,
  cluster: 'backends',
  endpoint: '127.0.0.1:40011',
  endpointRef,
  source: 'upstream',
  grpcStatus: 0,
  httpStatus: 200,
  error: undefined,
  errorMessage: undefined,
  durationMs: 1.23456789,
  bytesIn: 15,
  bytesOut: 20,
  messagesIn: 1,
  messagesOut: 1,
  attempts: 1,
  retries: 0,
  earlierAttempts: [],
};

const outcomes: CallOutcome[] = [
  plain,
  {
    ...plain,
    clientSubject: 'CN=client, O="quoted"',
    path: '/odd\\path\u0001\u00e9\u00ff',
    route: undefined,
    cluster: undefined,
    endpoint: undefined,
    source: 'local',
    grpcStatus: 14,
    httpStatus: undefined,
    error: 'no_healthy_endpoint',
    errorMessage: 'no healthy endpoint in cluster "x"\nsecond line',
    durationMs: Number.NaN,
    attempts: 0,
  },
  {
    ...plain,
    retries: 1,
    attempts: 2,
    earlierAttempts: [
      {
        endpoint: '127.0.0.1:40012',
        endpointRef,
        source: 'local',
        grpcStatus: 14,
        httpStatus: undefined,
        error: 'upstream_connect_failed',
        durationMs: 0.0004,
        then: 'transparent',
      },
    ],
  },
];

function capture(make: (destination: Writable) => Logger): { logger: Logger; text: () => string } {
  let text = '';
  const destination = new Writable({
    write(chunk: Buffer, _encoding, callback) {
      text += chunk.toString('utf8');
      callback();
    },
  });
  return { logger: make(destination), text: () => text };
}

/** The line pino writes for the access log's fields (the reference for the hand-written line). */
function pinoLine(logger: Logger, o: CallOutcome): void {
  logger.info(accessLineObject(o), 'call');
}

/** A fixed clock, so that both lines carry the same time. */
const options = { base: { pid: 7 }, name: 'switchyard', timestamp: () => ',"time":1' };

void t.test('the fast line is byte for byte pino’s', (t) => {
  for (const o of outcomes) {
    const fast = capture((d) => pino(options, d).child({ module: 'access' }));
    new AccessLog(fast.logger).record(o);
    const reference = capture((d) => pino(options, d).child({ module: 'access' }));
    pinoLine(reference.logger, o);
    t.equal(fast.text(), reference.text());
  }
  t.end();
});

/**
 * Outcomes of every shape, in a fixed pseudo-random order: the access log's
 * cached parts (per path, per endpoint, the last status and counts) are hit,
 * missed and outgrown along the way. `errorMessages` are the messages picked
 * from.
 */
function mixedOutcomes(
  count: number,
  errorMessages: readonly (string | undefined)[],
): CallOutcome[] {
  let seed = 11;
  const random = (): number => (seed = (seed * 16807) % 2147483647) / 2147483647;
  function pick<T>(items: readonly T[]): T {
    return items[Math.floor(random() * items.length)] as T;
  }
  return Array.from({ length: count }, (_, i) => ({
    ...pick(outcomes),
    requestId: pick(['r1', 'r"2', String(i)]),
    listener: pick(['main', 'other']),
    clientSubject: pick([undefined, 'CN=a', 'CN="b"']),
    method: pick(['POST', 'GET']),
    // Past the cache's bound (1024 paths) now and then.
    path: i % 4 === 0 ? `/p/${i}` : pick(['/echo.Echo/Unary', '/x\\y', '/é']),
    authority: pick(['a:1', 'b:2']),
    route: pick([undefined, 'all', 'e1']),
    cluster: pick([undefined, 'backends']),
    endpoint: pick([undefined, 'e1', 'e2', 'e3']),
    source: pick(['upstream', 'local', 'cancelled'] as const),
    grpcStatus: pick([undefined, 0, 14]),
    httpStatus: pick([undefined, 200, 503]),
    error: pick([undefined, 'no_route'] as const),
    errorMessage: pick(errorMessages),
    durationMs: random() * 10,
    bytesIn: pick([0, 15, Number.NaN]),
    bytesOut: pick([20, 21]),
    attempts: pick([0, 1, 2]),
    retries: pick([0, 1]),
  }));
}

void t.test('lines stay pino’s as the cached parts are reused and replaced', (t) => {
  // One AccessLog for all.
  const fast = capture((d) => pino(options, d).child({ module: 'access' }));
  const reference = capture((d) => pino(options, d).child({ module: 'access' }));
  const log = new AccessLog(fast.logger);
  for (const o of mixedOutcomes(3000, [undefined, 'no route "x"'])) {
    log.record(o);
    pinoLine(reference.logger, o);
  }
  const fastLines = fast.text().split('\n');
  const referenceLines = reference.text().split('\n');
  t.equal(fastLines.length, referenceLines.length);
  t.equal(
    fastLines.filter((line, i) => line !== referenceLines[i]).length,
    0,
    'every line the same',
  );
  t.end();
});

void t.test('through the buffered stdout’s batches: pino’s bytes, no line split', (t) => {
  // The batches get the line's parts, not a joined string (line-batch.ts):
  // non-ASCII (2-, 3- and 4-byte UTF-8, escaped and not) in strings both
  // short (copied by hand) and long, lines that fill a batch to its last
  // bytes, and lines larger than a whole batch.
  const huge = 'ü'.repeat(BATCH_BYTES / 2);
  const messages = [
    undefined,
    'no route "x"',
    'grüße, 你好 😀 ✓',
    'ünïcödé '.repeat(40),
    `a quote " and 😀 ${'ß'.repeat(300)}`,
    'x'.repeat(BATCH_BYTES / 3 - 400),
    huge,
  ];
  const chunks: Buffer[] = [];
  const batch = new LineBatch({
    write: (chunk) => void chunks.push(Buffer.from(chunk)),
    flushSync: () => undefined,
  });
  const root = pino(options, batch);
  const fast = root.child({ module: 'access' });
  const referenceChunks: Buffer[] = [];
  const referenceDestination = new Writable({
    write(chunk: Buffer, _encoding, callback) {
      referenceChunks.push(chunk);
      callback();
    },
  });
  const referenceRoot = pino(options, referenceDestination);
  const reference = referenceRoot.child({ module: 'access' });
  t.ok(lineWriter(fast, 'call') !== undefined, 'the hand-written line path');
  const log = new AccessLog(fast);
  let hugeLines = 0;
  mixedOutcomes(4000, messages).forEach((o, i) => {
    if (o.errorMessage === huge) hugeLines++;
    log.record(o);
    pinoLine(reference, o);
    // Lines pino writes whole go through the same batches, in order.
    if (i % 97 === 0) {
      root.warn({ i }, 'between');
      referenceRoot.warn({ i }, 'between');
    }
  });
  batch.flushSync();
  t.ok(hugeLines > 0, 'lines larger than a batch');
  const text = Buffer.concat(chunks);
  const expected = Buffer.concat(referenceChunks);
  t.ok(text.length > 10 * BATCH_BYTES, 'many batches');
  t.equal(text.length, expected.length);
  t.ok(text.equals(expected), 'the same bytes');
  t.equal(
    chunks.filter((chunk) => chunk.at(-1) !== 0x0a).length,
    0,
    'every batch ends at the end of a line',
  );
  t.equal(
    chunks.filter((chunk) => chunk.length > BATCH_BYTES && chunk.indexOf(0x0a) !== chunk.length - 1)
      .length,
    0,
    'a batch larger than BATCH_BYTES is one line',
  );
  t.end();
});

void t.test('through the batches with pino’s own clock: the same lines', (t) => {
  // pino's default clock is written as the number after a constant there.
  const chunks: Buffer[] = [];
  const batch = new LineBatch({
    write: (chunk) => void chunks.push(Buffer.from(chunk)),
    flushSync: () => undefined,
  });
  const clockOptions = { base: { pid: 7 }, name: 'switchyard' };
  const log = new AccessLog(pino(clockOptions, batch).child({ module: 'access' }));
  const reference = capture((d) => pino(clockOptions, d).child({ module: 'access' }));
  const start = Date.now();
  for (const o of [...outcomes, { ...plain, errorMessage: 'ü'.repeat(BATCH_BYTES) }]) {
    log.record(o);
    pinoLine(reference.logger, o);
  }
  batch.flushSync();
  const text = Buffer.concat(chunks).toString('utf8');
  const times = [...text.matchAll(/^\{"level":30,"time":(\d+),/gm)].map((m) => Number(m[1]));
  t.equal(times.length, outcomes.length + 1);
  t.ok(
    times.every((time) => time >= start && time <= Date.now()),
    'the time now',
  );
  const untimed = (s: string): string => s.replace(/^(\{"level":30,"time":)\d+,/gm, '$10,');
  t.equal(untimed(text), untimed(reference.text()));
  t.end();
});

void t.test('loggers the fast path cannot match still get pino’s own line', (t) => {
  const mixin = (): Record<string, unknown> => ({ extra: 1 });
  const redact = { paths: ['path'] };
  for (const extra of [{ mixin }, { redact }]) {
    const fast = capture((d) => pino({ ...options, ...extra }, d));
    new AccessLog(fast.logger).record(plain);
    const reference = capture((d) => pino({ ...options, ...extra }, d));
    pinoLine(reference.logger, plain);
    t.equal(fast.text(), reference.text());
  }
  t.end();
});

void t.test('nothing below info', (t) => {
  const quiet = capture((d) => pino({ ...options, level: 'warn' }, d));
  new AccessLog(quiet.logger).record(plain);
  t.equal(quiet.text(), '');
  t.end();
});

void t.test('duration_ms from integers reads as the rounded double always did', (t) => {
  const values = [0, -0, 1e-9, 0.0004, 0.0005, 0.0015, 1.0005, 2.675, 100.1, 999.9995, 1e9, 1e13];
  values.push(Number.NaN, -1, -0.0004, Number.POSITIVE_INFINITY, 0.1 + 0.2);
  for (let i = 0; i < 20000; i++) values.push(Math.random() * 10 ** ((i % 10) - 3));
  let mismatches = 0;
  for (const ms of values) {
    const rounded = Math.round(ms * 1000) / 1000;
    if (msString(ms) !== (Number.isFinite(rounded) ? String(rounded) : 'null')) mismatches++;
  }
  t.equal(mismatches, 0);
  t.end();
});
