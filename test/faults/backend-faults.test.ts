/**
 * Fault injection on the backend side, through a real proxy on real sockets:
 * a backend that hangs, resets its streams, GOAWAYs under load, floods PINGs,
 * allows one stream at a time, or answers with bytes that are not HTTP/2 or
 * not gRPC. Each test checks the status the affected call gets, that a
 * control client on another connection (and route, and backend) is served
 * afterwards, and that upstream streams and sessions, downstream connections
 * and the heap return to their baseline (fault-proxy.ts).
 *
 * The process-level crash (SIGKILL mid-stream) is in backend-crash.test.ts.
 */
import { once } from 'node:events';
import http2, { type ServerHttp2Stream } from 'node:http2';
import { resetCodeName } from '../../src/upstream/reset-errors.js';
import * as grpc from '@grpc/grpc-js';
import t from 'tap';
import { collect, serviceError } from '../helpers/echo-client.js';
import { connectClient } from '../helpers/harness.js';
import { grpcMessage, startRawBackend, type RawStream } from '../helpers/raw-backend.js';
import { startH2Backend, until, within, type BackendSession } from '../helpers/upstream-backend.js';
import { startTcpServer } from '../helpers/tcp-server.js';
import { faultProxy } from './fault-proxy.js';
import {
  DATA,
  END_HEADERS,
  END_STREAM,
  frame,
  HEADERS,
  OK_TRAILERS,
  PING,
  RESPONSE_HEADERS,
  rstStream,
  startFrameBackend,
} from './raw-h2.js';

const C = http2.constants;

/** An EchoReply with this (short, ASCII) message, as a gRPC message. */
function message(text: string): Buffer {
  return grpcMessage(Buffer.concat([Buffer.from([0x0a, text.length]), Buffer.from(text)]));
}

const OK_REPLY = message('ok');

/** A whole OK reply to stream `id` as raw frames. */
function okReply(id: number): Buffer {
  return Buffer.concat([
    frame(HEADERS, END_HEADERS, id, RESPONSE_HEADERS),
    frame(DATA, 0, id, OK_REPLY),
    frame(HEADERS, END_HEADERS | END_STREAM, id, OK_TRAILERS),
  ]);
}

/** Answers a call OK with one EchoReply `delayMs` after its request ended. */
function replyEcho(stream: ServerHttp2Stream, delayMs: number): void {
  stream.resume();
  stream.once('end', () => {
    const timer = setTimeout(() => {
      if (stream.closed || stream.destroyed) return;
      stream.respond(
        { ':status': 200, 'content-type': 'application/grpc' },
        { waitForTrailers: true },
      );
      stream.once('wantTrailers', () => stream.sendTrailers({ 'grpc-status': '0' }));
      stream.end(OK_REPLY);
    }, delayMs);
    stream.once('close', () => clearTimeout(timer));
  });
}

void t.test(
  'a backend that never answers: DEADLINE_EXCEEDED, backend stream cancelled',
  async (t) => {
    const backend = await startRawBackend(t, (call: RawStream) => call.stream.resume());
    const fp = await faultProxy(t, backend.address);
    const baseline = fp.counts();
    const client = connectClient(t, fp.address);
    const arrived = backend.nextStream();
    const error = await serviceError(
      client.unary({ message: 'hello?' }, new grpc.Metadata(), { deadline: Date.now() + 300 }),
    );
    t.equal(error.code, grpc.status.DEADLINE_EXCEEDED);
    const call = await arrived;
    t.equal(call.headers['grpc-timeout'] !== undefined, true, 'the deadline went upstream');
    t.equal(
      await within(call.closed, 3_000, 'backend stream close'),
      C.NGHTTP2_CANCEL,
      'RST_STREAM(CANCEL) upstream',
    );
    client.close();
    await fp.expectRecovered(t, baseline);
  },
);

/** [when, RST_STREAM code, gRPC status the client must see (PROTOCOL-HTTP2.md)] */
const resets: readonly [string, number, grpc.status][] = [
  ['after headers', C.NGHTTP2_INTERNAL_ERROR, grpc.status.INTERNAL],
  ['after headers', C.NGHTTP2_CANCEL, grpc.status.CANCELLED],
  ['during data', C.NGHTTP2_PROTOCOL_ERROR, grpc.status.INTERNAL],
  ['during data', C.NGHTTP2_ENHANCE_YOUR_CALM, grpc.status.RESOURCE_EXHAUSTED],
  ['during data', C.NGHTTP2_CANCEL, grpc.status.CANCELLED],
];
for (const [when, code, status] of resets) {
  void t.test(`RST_STREAM(${resetCodeName(code)}) ${when}: ${grpc.status[status]}`, async (t) => {
    // Hand-written frames: node:http2's stream.close(code) sends END_STREAM
    // before the RST_STREAM when it can, which is a clean end, not a reset.
    const backend = await startFrameBackend(t, ({ socket }, id) => {
      const data =
        when === 'during data'
          ? [frame(DATA, 0, id, Buffer.concat([message('a'), message('b')]))]
          : [];
      socket.write(
        Buffer.concat([
          frame(HEADERS, END_HEADERS, id, RESPONSE_HEADERS),
          ...data,
          rstStream(id, code),
        ]),
      );
    });
    const fp = await faultProxy(t, backend.address);
    const baseline = fp.counts();
    const client = connectClient(t, fp.address);
    const call = client.serverStream({ count: 5 });
    const messages: string[] = [];
    call.on('data', (reply: { message: string }) => messages.push(reply.message));
    const error = await serviceError(collect(call));
    t.equal(error.code, status, `${grpc.status[error.code]}: ${error.details}`);
    if (when === 'during data') t.same(messages, ['a', 'b'], 'messages before the reset arrived');
    client.close();
    await fp.expectRecovered(t, baseline);
  });
}

void t.test('an OK reply that cuts its last message short: INTERNAL', async (t) => {
  const backend = await startFrameBackend(t, ({ socket }, id) => {
    // A length prefix of 100, then 3 bytes, then grpc-status 0.
    const lying = Buffer.concat([Buffer.from([0, 0, 0, 0, 100]), Buffer.from('abc')]);
    socket.write(
      Buffer.concat([
        frame(HEADERS, END_HEADERS, id, RESPONSE_HEADERS),
        frame(DATA, 0, id, lying),
        frame(HEADERS, END_HEADERS | END_STREAM, id, OK_TRAILERS),
      ]),
    );
  });
  const fp = await faultProxy(t, backend.address);
  const baseline = fp.counts();
  const client = connectClient(t, fp.address);
  const error = await serviceError(client.unary({ message: 'x' }));
  t.equal(error.code, grpc.status.INTERNAL, error.details);
  t.match(error.details, /97 bytes short of a whole gRPC message/);
  client.close();
  await fp.expectRecovered(t, baseline);
});

void t.test('GOAWAY mid-load: calls above last-stream-id are retried, below finish', async (t) => {
  let first: BackendSession | undefined;
  let goawayAt = 0;
  const backend = await startH2Backend(t, {
    handler: (stream, session) => {
      first ??= session;
      if (session !== first) {
        replyEcho(stream, 10);
        return;
      }
      const n = session.streams.length;
      // Streams 1-6 of the first connection (warm-up + 5 calls) are
      // processed. When the 12th arrives the backend GOAWAYs naming the 6th,
      // so streams 7-12 at least are above last-stream-id, whatever the timing.
      if (n <= 6) replyEcho(stream, 50);
      if (n !== 12) return;
      const processed = session.streams.slice(0, 6);
      goawayAt = processed[5]?.id ?? 0;
      session.session.goaway(C.NGHTTP2_NO_ERROR, goawayAt);
      void Promise.all(processed.map((p) => once(p, 'close'))).then(() => {
        // Our side of the streams above last-stream-id (the proxy already
        // counts them refused), then the connection.
        for (const s of session.streams.slice(6)) s.close(C.NGHTTP2_REFUSED_STREAM);
        session.session.close();
      });
    },
  });
  const fp = await faultProxy(t, backend.address);
  const client = connectClient(t, fp.address);
  await client.unary({ message: 'warm-up' });
  const baseline = fp.counts();
  const results = await Promise.allSettled(
    Array.from({ length: 30 }, (_, i) => client.unary({ message: `call ${i}` })),
  );
  const failed = results.filter((r) => r.status === 'rejected');
  t.same(failed, [], 'no call failed');
  t.ok(backend.sessions.length >= 2, 'calls after the GOAWAY went to a new connection');
  const firstStreams = first?.streams ?? [];
  const refused = firstStreams.filter((s) => (s.id ?? 0) > goawayAt).length;
  t.comment(
    `first connection: ${firstStreams.length} streams, ${refused} above last-stream-id ${goawayAt}`,
  );
  t.ok(refused >= 6, 'at least 6 calls were sent above last-stream-id (and were replayed)');
  t.same(
    firstStreams.slice(0, 6).map((s) => s.rstCode),
    [0, 0, 0, 0, 0, 0],
    'the calls at or below last-stream-id finished on the old connection',
  );
  client.close();
  await fp.expectRecovered(t, baseline);
});

void t.test('MAX_CONCURRENT_STREAMS=1 and 10 concurrent calls: all succeed', async (t) => {
  const backend = await startH2Backend(t, {
    settings: { maxConcurrentStreams: 1 },
    handler: (stream) => replyEcho(stream, 30),
  });
  // A short idle timeout so the extra sessions the load opens go away afterwards.
  const fp = await faultProxy(t, backend.address, { cluster: { idle_timeout: '300ms' } });
  const client = connectClient(t, fp.address);
  await client.unary({ message: 'warm-up' }); // the proxy learns the limit
  const baseline = fp.counts();
  const results = await Promise.allSettled(
    Array.from({ length: 10 }, (_, i) => client.unary({ message: `call ${i}` })),
  );
  t.same(
    results.filter((r) => r.status === 'rejected'),
    [],
    'all 10 calls succeeded',
  );
  t.same(
    backend.sessions.map((s) => s.peak).filter((peak) => peak > 1),
    [],
    'no backend connection ever had more than one stream open',
  );
  const refused = backend.sessions
    .flatMap((s) => s.streams)
    .filter((s) => s.rstCode === C.NGHTTP2_REFUSED_STREAM);
  t.equal(refused.length, 0, 'no stream was refused');
  t.comment(`${backend.sessions.length} backend connections for 11 calls`);
  client.close();
  await fp.expectRecovered(t, baseline);
});

void t.test('a PING flood: the upstream session survives or is dropped; calls go on', async (t) => {
  // 20,000 PINGs in one write, after the first answer on the first
  // connection (node:http2 itself allows only 10 outstanding PINGs).
  const PINGS = 20_000;
  const ping = frame(PING, 0, 0, Buffer.alloc(8));
  let flooded = false;
  const backend = await startFrameBackend(t, ({ socket }, id) => {
    socket.write(okReply(id));
    if (flooded) return;
    flooded = true;
    socket.write(Buffer.concat(Array.from({ length: PINGS }, () => ping)));
  });
  const fp = await faultProxy(t, backend.address);
  const client = connectClient(t, fp.address);
  const first = await client.unary({ message: 'one' });
  t.equal(first.reply.message, 'ok', 'the call answered before the flood is OK');
  const baseline = fp.counts();
  const target = backend.connections[0];
  if (target === undefined) throw new Error('no connection');
  const flood = { dropped: false };
  void target.closed.then(() => (flood.dropped = true));
  await until(
    () => flood.dropped || target.pingAcks >= PINGS,
    'the proxy answered every PING or dropped the connection',
    10_000,
  );
  t.comment(
    flood.dropped
      ? `the proxy dropped the flooded connection after ${target.pingAcks} PING ACKs`
      : `the proxy answered all ${PINGS} PINGs and kept the connection`,
  );
  const results = await Promise.all(
    Array.from({ length: 5 }, (_, i) => client.unary({ message: `after ${i}` })),
  );
  t.same(
    results.map((r) => r.reply.message),
    ['ok', 'ok', 'ok', 'ok', 'ok'],
    'calls after the flood succeed',
  );
  client.close();
  await fp.expectRecovered(t, baseline);
});

void t.test('a backend that does not speak HTTP/2: UNAVAILABLE', async (t) => {
  const address = await startTcpServer(t, (socket) => {
    socket.write('HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\n\r\n\x00\xff garbage \x17\x03');
  });
  const fp = await faultProxy(t, address);
  const baseline = fp.counts();
  const client = connectClient(t, fp.address);
  const error = await serviceError(client.unary({ message: 'hello?' }));
  t.equal(error.code, grpc.status.UNAVAILABLE, error.details);
  client.close();
  await fp.expectRecovered(t, baseline);
});
