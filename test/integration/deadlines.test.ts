/**
 * Deadlines: the client's grpc-timeout and the route's timeout are honoured
 * by default; expiry answers DEADLINE_EXCEEDED and cancels the backend's
 * stream; the backend is told the remaining time.
 */
import http2 from 'node:http2';
import t from 'tap';
import { parseGrpcTimeout } from '../../src/grpc/grpc-timeout.js';
import { proxyConfig, startProxy } from '../helpers/proxy.js';
import { replyOk, startRawBackend, type RawStream } from '../helpers/raw-backend.js';
import { rawCall, rawSession } from '../helpers/raw-client.js';

const PATH = '/switchyard.test.Echo/Unary';

/** A backend that takes a second to answer, unless cancelled first. */
function sleepy(call: RawStream): void {
  replyOk(call, 1000);
}

function prompt(call: RawStream): void {
  replyOk(call);
}

void t.test('client grpc-timeout: DEADLINE_EXCEEDED on time, backend cancelled', async (t) => {
  const backend = await startRawBackend(t, sleepy);
  const { address } = await startProxy(t, proxyConfig([backend.address]));
  const session = await rawSession(t, address);
  const arrived = backend.nextStream();
  const reply = await rawCall(session, PATH, { 'grpc-timeout': '50m' });
  t.equal(reply.grpcStatus, '4', 'DEADLINE_EXCEEDED');
  t.ok(reply.elapsedMs >= 45, `not before the deadline (${reply.elapsedMs.toFixed(1)} ms)`);
  t.ok(reply.elapsedMs < 500, `well before the backend's 1 s (${reply.elapsedMs.toFixed(1)} ms)`);
  const upstream = await arrived;
  t.equal(
    await upstream.closed,
    http2.constants.NGHTTP2_CANCEL,
    'backend stream reset with CANCEL',
  );
  const forwarded = upstream.headers['grpc-timeout'];
  t.type(forwarded, 'string');
  const forwardedMs = parseGrpcTimeout(String(forwarded));
  t.ok(forwardedMs !== undefined && forwardedMs <= 50, `backend got ${String(forwarded)} <= 50m`);
});

void t.test('route timeout applies without a client deadline', async (t) => {
  const backend = await startRawBackend(t, sleepy);
  const { address } = await startProxy(
    t,
    proxyConfig([backend.address], { route: { timeout: '100ms' } }),
  );
  const session = await rawSession(t, address);
  const arrived = backend.nextStream();
  const reply = await rawCall(session, PATH);
  t.equal(reply.grpcStatus, '4');
  t.ok(reply.elapsedMs >= 95 && reply.elapsedMs < 600, `${reply.elapsedMs.toFixed(1)} ms`);
  const upstream = await arrived;
  const forwardedMs = parseGrpcTimeout(String(upstream.headers['grpc-timeout']));
  t.ok(
    forwardedMs !== undefined && forwardedMs <= 100 && forwardedMs > 50,
    'route timeout sent upstream',
  );
  t.equal(await upstream.closed, http2.constants.NGHTTP2_CANCEL);
});

void t.test('the earlier of client and route deadline wins', async (t) => {
  const backend = await startRawBackend(t, prompt);
  const { address } = await startProxy(
    t,
    proxyConfig([backend.address], { route: { timeout: '30s' } }),
  );
  const session = await rawSession(t, address);
  const arrived = backend.nextStream();
  const reply = await rawCall(session, PATH, { 'grpc-timeout': '2S' });
  t.equal(reply.grpcStatus, '0');
  const forwardedMs = parseGrpcTimeout(String((await arrived).headers['grpc-timeout']));
  t.ok(forwardedMs !== undefined && forwardedMs <= 2000 && forwardedMs > 1000);
});

void t.test(
  'a zero grpc-timeout is already expired: answered at once, never forwarded',
  async (t) => {
    const backend = await startRawBackend(t, prompt);
    const { address } = await startProxy(t, proxyConfig([backend.address]));
    const session = await rawSession(t, address);
    const reply = await rawCall(session, PATH, { 'grpc-timeout': '0m' });
    t.equal(reply.grpcStatus, '4');
    t.ok(reply.trailersOnly, 'trailers-only reply');
    t.equal(backend.streams.length, 0, 'backend never saw the call');
  },
);

void t.test('a malformed grpc-timeout is rejected with INTERNAL and says why', async (t) => {
  const backend = await startRawBackend(t, prompt);
  const { address } = await startProxy(t, proxyConfig([backend.address]));
  const session = await rawSession(t, address);
  for (const bad of ['', '5', 'm', '123456789m', '1.5S', '-1m', '10x']) {
    const reply = await rawCall(session, PATH, { 'grpc-timeout': bad });
    t.equal(reply.grpcStatus, '13', `"${bad}" → INTERNAL`);
    t.match(String(reply.headers['grpc-message']), /grpc-timeout/);
  }
  t.equal(backend.streams.length, 0);
});

void t.test(
  'no deadline: the backend gets no grpc-timeout and a slow call completes',
  async (t) => {
    const backend = await startRawBackend(t, sleepy);
    const { address } = await startProxy(t, proxyConfig([backend.address]));
    const session = await rawSession(t, address);
    const arrived = backend.nextStream();
    const reply = await rawCall(session, PATH);
    t.equal(reply.grpcStatus, '0');
    t.equal((await arrived).headers['grpc-timeout'], undefined);
  },
);
