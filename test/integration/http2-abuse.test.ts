/**
 * Listener protections against abusive HTTP/2 clients, each with a raw
 * node:http2 (or TCP) client, and a well-behaved client on another
 * connection that must keep working: max_concurrent_streams, the header
 * list limit, PING and SETTINGS floods, idle connections, connections that
 * never send the HTTP/2 preface, and max_connections.
 */
import http2, {
  type ClientHttp2Session,
  type ClientHttp2Stream,
  type IncomingHttpHeaders,
} from 'node:http2';
import net from 'node:net';
import t from 'tap';
import type { ListenerConfig } from '../../src/config/schema.js';
import { startBackends } from '../helpers/harness.js';
import { proxyConfig, startProxy } from '../helpers/proxy.js';
import { grpcRequest, rawCall, rawSession } from '../helpers/raw-client.js';
import { startRawBackend } from '../helpers/raw-backend.js';
import type { TestContext } from '../helpers/context.js';

const PATH = '/switchyard.test.Echo/Unary';
const { NGHTTP2_ENHANCE_YOUR_CALM, NGHTTP2_REFUSED_STREAM } = http2.constants;

/** An echo backend behind a proxy with these listener limits; returns the proxy address. */
async function proxyWith(t: TestContext, limits: ListenerConfig['limits']): Promise<string> {
  const [backend] = await startBackends(t, ['b1']);
  if (backend === undefined) throw new Error('no backend');
  const { address } = await startProxy(
    t,
    proxyConfig([backend.address], limits === undefined ? {} : { listener: { limits } }),
  );
  return address;
}

/** A well-behaved call on a fresh connection: grpc-status 0. */
async function healthyCall(t: TestContext, address: string): Promise<string | undefined> {
  const session = await rawSession(t, address);
  const reply = await rawCall(session, PATH);
  session.close();
  return reply.grpcStatus;
}

function goaway(session: ClientHttp2Session): Promise<number> {
  return new Promise((resolve) => session.once('goaway', (code: number) => resolve(code)));
}

function closed(session: ClientHttp2Session | net.Socket): Promise<void> {
  return new Promise((resolve) => session.once('close', () => resolve()));
}

/** A PING round trip: everything sent before it (our SETTINGS ACK included) has been read. */
function roundTrip(session: ClientHttp2Session): Promise<void> {
  return new Promise((resolve, reject) => {
    session.ping((error) => (error === null ? resolve() : reject(error)));
  });
}

function streamClosed(stream: ClientHttp2Stream): Promise<number> {
  return new Promise((resolve) => stream.once('close', () => resolve(stream.rstCode)));
}

void t.test('max_concurrent_streams: advertised, and the stream past it is refused', async (t) => {
  // A backend that never answers keeps the first streams open.
  const backend = await startRawBackend(t, (call) => call.stream.resume());
  const { address } = await startProxy(
    t,
    proxyConfig([backend.address], { listener: { limits: { max_concurrent_streams: 3 } } }),
  );
  const session = http2.connect(`http://${address}`);
  session.on('error', () => undefined);
  t.teardown(() => session.destroy());
  // Sent before the proxy's SETTINGS arrive, so the client does not hold the 4th back itself.
  const streams = Array.from({ length: 4 }, () => {
    const stream = session.request({
      ':method': 'POST',
      ':path': PATH,
      'content-type': 'application/grpc',
      te: 'trailers',
    });
    stream.on('error', () => undefined);
    return stream;
  });
  const last = streams[3];
  if (last === undefined) throw new Error('no 4th stream');
  t.equal(await streamClosed(last), NGHTTP2_REFUSED_STREAM, 'the 4th stream: REFUSED_STREAM');
  t.equal(session.remoteSettings.maxConcurrentStreams, 3, 'SETTINGS_MAX_CONCURRENT_STREAMS is 3');
  t.ok(
    streams.slice(0, 3).every((s) => !s.closed),
    'the first 3 streams are still open',
  );
  // Wind down in order: the 3 calls reach the backend, then the client cancels them.
  for (let i = 0; i < 250 && backend.streams.length < 3; i++) {
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
  t.equal(backend.streams.length, 3, 'the 3 accepted calls reached the backend');
  for (const stream of streams) stream.close(http2.constants.NGHTTP2_CANCEL);
  await Promise.all(backend.streams.map((s) => s.closed));
});

void t.test('max_header_list_size: advertised; a larger header block is refused', async (t) => {
  const address = await proxyWith(t, { max_header_list_size: '1KiB' });
  const session = await rawSession(t, address);
  await roundTrip(session);
  t.equal(session.remoteSettings.maxHeaderListSize, 1024, 'SETTINGS_MAX_HEADER_LIST_SIZE 1024');
  for (const size of [2_000, 100_000]) {
    // 100 KB goes out as HEADERS plus CONTINUATION frames.
    const stream = session.request({
      ':method': 'POST',
      ':path': PATH,
      'content-type': 'application/grpc',
      te: 'trailers',
      'x-big': 'a'.repeat(size),
    });
    stream.on('error', () => undefined);
    stream.end();
    const code = await streamClosed(stream);
    t.ok(
      code === NGHTTP2_ENHANCE_YOUR_CALM || code === NGHTTP2_REFUSED_STREAM,
      `${size}-byte header: stream reset (${code})`,
    );
  }
  const ok = await rawCall(session, PATH);
  t.equal(ok.grpcStatus, '0', 'the same connection still serves a normal call');
  t.equal(await healthyCall(t, address), '0', 'another connection is unharmed');
});

void t.test('PING flood: GOAWAY ENHANCE_YOUR_CALM; other connections unharmed', async (t) => {
  const address = await proxyWith(t, { max_pings_per_second: 10 });
  const session = http2.connect(`http://${address}`, { maxOutstandingPings: 10_000 });
  session.on('error', () => undefined);
  t.teardown(() => session.destroy());
  await new Promise<void>((resolve) => session.once('connect', () => resolve()));
  const code = goaway(session);
  const gone = closed(session);
  let sent = 0;
  for (; sent < 1_000 && !session.closed && !session.destroyed; sent++) {
    session.ping(() => undefined);
  }
  t.equal(
    await code,
    NGHTTP2_ENHANCE_YOUR_CALM,
    `${sent} PINGs in a burst: GOAWAY ENHANCE_YOUR_CALM`,
  );
  await gone;
  t.equal(await healthyCall(t, address), '0', 'another connection is unharmed');
});

void t.test('SETTINGS flood: GOAWAY ENHANCE_YOUR_CALM', async (t) => {
  const address = await proxyWith(t, { max_pings_per_second: 10 });
  const session = await rawSession(t, address);
  const code = goaway(session);
  let acked = 0;
  const flood = (async () => {
    // Each waits for its ACK (node holds at most 10 unacknowledged SETTINGS).
    while (!session.closed && !session.destroyed && acked < 1_000) {
      await new Promise<void>((resolve) => {
        try {
          session.settings({ enablePush: false }, () => resolve());
        } catch {
          resolve();
        }
        session.once('close', () => resolve());
      });
      acked++;
    }
  })();
  t.equal(await code, NGHTTP2_ENHANCE_YOUR_CALM, 'GOAWAY ENHANCE_YOUR_CALM');
  await flood;
  t.ok(acked < 1_000, `cut after ${acked} SETTINGS frames`);
});

void t.test('idle_timeout: a connection without streams gets GOAWAY and is closed', async (t) => {
  const address = await proxyWith(t, { idle_timeout: '300ms' });
  const started = performance.now();
  const idle = await rawSession(t, address);
  const code = goaway(idle);
  // A connection whose call outlasts idle_timeout is not idle.
  const busy = await rawSession(t, address);
  let busyGoaway = false;
  busy.once('goaway', () => (busyGoaway = true));
  const open = grpcRequest(busy, PATH);
  open.on('error', () => undefined);
  const status = new Promise<unknown>((resolve) => {
    open.on('trailers', (trailers: IncomingHttpHeaders) => resolve(trailers['grpc-status']));
    open.resume();
  });
  t.equal(await code, http2.constants.NGHTTP2_NO_ERROR, 'GOAWAY NO_ERROR');
  await closed(idle);
  const elapsed = performance.now() - started;
  t.ok(elapsed >= 250 && elapsed < 5_000, `closed after ${elapsed.toFixed(0)} ms`);
  t.notOk(busyGoaway, 'the connection with a call open got no GOAWAY');
  open.end(Buffer.from([0, 0, 0, 0, 0]));
  t.equal(await status, '0', 'its call, open past idle_timeout, completed');
});

void t.test('handshake_timeout: a connection that never sends the preface is closed', async (t) => {
  const address = await proxyWith(t, { handshake_timeout: '300ms' });
  const [host = '', port = ''] = address.split(':');
  const started = performance.now();
  const silent = net.connect(Number(port), host);
  silent.on('error', () => undefined);
  silent.resume(); // read, so that the proxy's close is seen
  t.teardown(() => silent.destroy());
  const silentClosed = closed(silent);
  // A real client connected at the same time stays up past the deadline.
  const session = await rawSession(t, address);
  await silentClosed;
  const elapsed = performance.now() - started;
  t.ok(elapsed >= 250 && elapsed < 5_000, `closed after ${elapsed.toFixed(0)} ms`);
  await new Promise((resolve) => setTimeout(resolve, 200)); // past the deadline for `session` too
  const reply = await rawCall(session, PATH);
  t.equal(reply.grpcStatus, '0', 'the client that sent its preface is still served');
});

void t.test('max_connections: connections past the limit are closed at once', async (t) => {
  const address = await proxyWith(t, { max_connections: 2 });
  const first = await rawSession(t, address);
  const second = await rawSession(t, address);
  const third = http2.connect(`http://${address}`);
  third.on('error', () => undefined);
  t.teardown(() => third.destroy());
  let settings = false;
  third.once('remoteSettings', () => (settings = true));
  await closed(third);
  t.notOk(settings, 'the 3rd connection was closed before any SETTINGS');
  t.equal((await rawCall(first, PATH)).grpcStatus, '0', 'the 1st connection is served');
  t.equal((await rawCall(second, PATH)).grpcStatus, '0', 'the 2nd connection is served');
  const secondClosed = closed(second);
  second.close();
  await secondClosed;
  // The server sees the close a moment later: retry for a bounded time.
  let status: string | undefined;
  for (let attempt = 0; attempt < 50 && status === undefined; attempt++) {
    status = await healthyCall(t, address).catch(() => undefined);
  }
  t.equal(status, '0', 'a new connection is accepted once one closed');
});
