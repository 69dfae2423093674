/**
 * Fault injection on the client side, through a real proxy on real sockets:
 * a client that stops reading, one whose TCP connection vanishes mid-call,
 * and one that opens streams up to (and past) the listener's
 * max_concurrent_streams and leaves them idle. Each test checks that the
 * backend sees what it should (writes block; calls cancelled; no stream
 * beyond the limit), that a control client on another connection is served
 * meanwhile, and that the proxy's state returns to baseline (fault-proxy.ts).
 */
import http2 from 'node:http2';
import net from 'node:net';
import t from 'tap';
import { DEFAULTS } from '../../src/config/schema.js';
import { startBackends } from '../helpers/harness.js';
import { grpcMessage, startRawBackend, type RawStream } from '../helpers/raw-backend.js';
import { grpcRequest } from '../helpers/raw-client.js';
import { until, within } from '../helpers/upstream-backend.js';
import { faultProxy, HEAP_SLACK } from './fault-proxy.js';
import {
  ACK,
  END_HEADERS,
  frame,
  FrameReader,
  GOAWAY,
  HEADERS,
  headerBlock,
  PREFACE,
  RST_STREAM,
  SETTINGS,
  type Frame,
} from './raw-h2.js';

const MESSAGE = grpcMessage(Buffer.alloc(16 * 1024, 0x62));
/**
 * Most bytes the backend may get out before it blocks: the client's 64 KiB
 * stream window, the proxy's 1 MiB upstream stream window and node's write
 * buffers on each side, with room to spare. Unbounded buffering would reach
 * the writer's 64 MiB cap instead.
 */
const FLOW_BOUND = 4 * 1024 * 1024;
/** How long the backend must stay blocked to count as stalled by flow control. */
const STALL_MS = 300;

/** A raw h2c client connection over a socket the test owns (so it can cut it). */
async function ownedSession(
  address: string,
): Promise<{ session: http2.ClientHttp2Session; socket: net.Socket }> {
  const [host = '127.0.0.1', port = '0'] = address.split(':');
  const socket = net.connect(Number(port), host);
  socket.on('error', () => undefined);
  const session = http2.connect(`http://${address}`, { createConnection: () => socket });
  session.on('error', () => undefined);
  await new Promise<void>((resolve, reject) => {
    session.once('connect', () => resolve());
    session.once('error', reject);
  });
  return { session, socket };
}

void t.test('a client that stops reading: the backend blocks, memory stays bounded', async (t) => {
  let written = 0;
  let blockedSince: number | undefined;
  const backend = await startRawBackend(t, (call: RawStream) => {
    const { stream } = call;
    stream.resume();
    stream.respond({ ':status': 200, 'content-type': 'application/grpc' });
    const pump = (): void => {
      blockedSince = undefined;
      while (!stream.destroyed && written < 64 * 1024 * 1024) {
        written += MESSAGE.length;
        if (!stream.write(MESSAGE)) {
          blockedSince = performance.now();
          stream.once('drain', pump);
          return;
        }
      }
    };
    pump();
  });
  const fp = await faultProxy(t, backend.address);
  const baseline = fp.counts();
  const { session, socket } = await ownedSession(fp.address);
  t.teardown(() => socket.destroy());
  const stream = grpcRequest(session, '/switchyard.test.Echo/ServerStream');
  stream.on('error', () => undefined);
  stream.end(grpcMessage(Buffer.alloc(0)));
  stream.pause(); // never read
  await until(
    () => blockedSince !== undefined && performance.now() - blockedSince > STALL_MS,
    `the backend blocked for ${STALL_MS} ms`,
    10_000,
  );
  t.ok(written < FLOW_BOUND, `backend blocked after ${written} bytes (< ${FLOW_BOUND})`);
  const during = fp.counts();
  t.ok(
    during.heapUsed - baseline.heapUsed < HEAP_SLACK,
    `heap while stalled: +${((during.heapUsed - baseline.heapUsed) / 1024 / 1024).toFixed(1)} MiB`,
  );
  t.equal(during.upstreamStreams, 1, 'the stalled call holds one upstream stream');
  const control = await fp.control.unary({ message: 'meanwhile' }, fp.controlMetadata());
  t.equal(control.reply.backend, 'control', 'the control client is served during the stall');
  socket.destroy();
  await fp.expectRecovered(t, baseline);
});

void t.test(
  'a client connection cut mid-call (TCP RST): the backend calls are cancelled',
  async (t) => {
    const [backend] = await startBackends(t, ['b1']);
    if (backend === undefined) throw new Error('no backend');
    const fp = await faultProxy(t, backend.address);
    const baseline = fp.counts();
    const { session, socket } = await ownedSession(fp.address);
    // A bidi stream that got its first reply, and a long server stream.
    const bidi = grpcRequest(session, '/switchyard.test.Echo/Bidi');
    bidi.on('error', () => undefined);
    bidi.write(grpcMessage(Buffer.from([0x0a, 4, 0x70, 0x69, 0x6e, 0x67])));
    const firstReply = new Promise<void>((resolve) => bidi.once('data', () => resolve()));
    await within(firstReply, 5_000, 'first bidi reply');
    const serverStream = grpcRequest(session, '/switchyard.test.Echo/ServerStream');
    serverStream.on('error', () => undefined);
    // count 1,000,000 replies of 1 KiB: it runs until cancelled.
    serverStream.end(grpcMessage(Buffer.from([0x30, 0xc0, 0x84, 0x3d, 0x38, 0x80, 0x08])));
    await within(
      new Promise<void>((resolve) => serverStream.once('data', () => resolve())),
      5_000,
      'first server-stream reply',
    );
    t.equal(backend.cancellations, 0);
    socket.resetAndDestroy();
    await until(() => backend.cancellations === 2, 'both backend calls cancelled', 5_000);
    t.equal(backend.cancellations, 2, 'the bidi and the server stream were cancelled upstream');
    await fp.expectRecovered(t, baseline);
  },
);

/** Request headers for stream `id`, as a literal-only header block. */
function requestHeaders(address: string): Buffer {
  return headerBlock([
    [':method', 'POST'],
    [':scheme', 'http'],
    [':path', '/switchyard.test.Echo/Bidi'],
    [':authority', address],
    ['content-type', 'application/grpc'],
    ['te', 'trailers'],
  ]);
}

void t.test(
  'idle streams up to max_concurrent_streams and beyond: refused, proxy responsive',
  async (t) => {
    const LIMIT = DEFAULTS.maxConcurrentStreams; // the default listener's, 1000
    const EXTRA = 10;
    const backend = await startRawBackend(t, (call: RawStream) => call.stream.resume()); // never answers
    const fp = await faultProxy(t, backend.address, {
      // The idle streams open several upstream connections (100 streams
      // each until the backend's limit is known): they must go once idle.
      cluster: { idle_timeout: '300ms' },
    });
    const baseline = fp.counts();
    const [host = '127.0.0.1', port = '0'] = fp.address.split(':');
    const socket = net.connect(Number(port), host);
    socket.on('error', () => undefined);
    t.teardown(() => socket.destroy());
    const frames: Frame[] = [];
    const reader = new FrameReader();
    let settingsSeen: () => void = () => undefined;
    const settings = new Promise<void>((resolve) => (settingsSeen = resolve));
    socket.on('data', (chunk: Buffer) => {
      for (const f of reader.push(chunk)) {
        frames.push(f);
        if (f.type === SETTINGS && (f.flags & ACK) === 0) {
          socket.write(frame(SETTINGS, ACK, 0));
          settingsSeen();
        }
      }
    });
    socket.write(Buffer.concat([PREFACE, frame(SETTINGS, 0, 0)]));
    await within(settings, 5_000, 'the proxy’s SETTINGS');
    const block = requestHeaders(fp.address);
    const open = (from: number, count: number): void => {
      const ids = Array.from({ length: count }, (_, i) => 2 * (from + i) + 1);
      socket.write(Buffer.concat(ids.map((id) => frame(HEADERS, END_HEADERS, id, block))));
    };
    open(0, LIMIT);
    await until(() => backend.streams.length === LIMIT, `${LIMIT} streams at the backend`, 10_000);
    const control = await fp.control.unary({ message: 'meanwhile' }, fp.controlMetadata());
    t.equal(control.reply.backend, 'control', `control served with ${LIMIT} idle streams open`);
    open(LIMIT, EXTRA);
    const refusal = (): Frame | undefined =>
      frames.find((f) => f.type === GOAWAY || (f.type === RST_STREAM && f.streamId > 2 * LIMIT));
    await until(
      () => refusal() !== undefined,
      'RST_STREAM or GOAWAY for streams past the limit',
      5_000,
    );
    const refused = refusal();
    const code = refused?.payload.readUInt32BE(refused.type === GOAWAY ? 4 : 0);
    t.comment(`past the limit: ${refused?.type === GOAWAY ? 'GOAWAY' : 'RST_STREAM'} code ${code}`);
    const again = await fp.control.unary({ message: 'after' }, fp.controlMetadata());
    t.equal(again.reply.backend, 'control', 'control served after the excess streams');
    t.equal(backend.streams.length, LIMIT, 'no stream past the limit reached the backend');
    socket.destroy();
    await until(
      () => backend.streams.every((s) => s.stream.closed),
      'every idle backend stream closed',
      5_000,
    );
    await fp.expectRecovered(t, baseline);
  },
);
