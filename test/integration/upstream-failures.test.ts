/**
 * How failures on either side end a call: client cancellation reaches the
 * backend at once; a backend that dies, resets or answers in something other
 * than gRPC gives the client a precise gRPC status, never a hang or a silent OK.
 */
import http2, { type OutgoingHttpHeaders } from 'node:http2';
import * as grpc from '@grpc/grpc-js';
import t from 'tap';
import { nextReply, serviceError } from '../helpers/echo-client.js';
import { proxiedEcho } from '../helpers/harness.js';
import { proxyConfig, startProxy } from '../helpers/proxy.js';
import { grpcMessage, startRawBackend, type RawStream } from '../helpers/raw-backend.js';
import { grpcRequest, rawCall, rawSession } from '../helpers/raw-client.js';

const PATH = '/switchyard.test.Echo/Unary';

void t.test('a client that cancels a bidi stream cancels the backend handler', async (t) => {
  const { client, backends } = await proxiedEcho(t, ['b1']);
  const backend = backends[0];
  if (backend === undefined) throw new Error('no backend');
  const call = client.bidi();
  call.on('error', () => undefined);
  call.write({ message: 'ping' });
  await nextReply(call);
  const cancelled = backend.onCancelled();
  call.cancel();
  t.same(await cancelled, { backend: 'b1', method: 'Bidi' });
});

void t.test('a client that cancels a server stream mid-way cancels the backend', async (t) => {
  const { client, backends } = await proxiedEcho(t, ['b1']);
  const backend = backends[0];
  if (backend === undefined) throw new Error('no backend');
  const call = client.serverStream({ count: 1_000_000, replySize: 1024 });
  call.on('error', () => undefined);
  await nextReply(call);
  const cancelled = backend.onCancelled();
  call.cancel();
  t.equal((await cancelled).method, 'ServerStream');
});

void t.test('a backend killed mid-stream gives the client UNAVAILABLE', async (t) => {
  const backend = await startRawBackend(t, (call: RawStream) => {
    call.stream.respond({ ':status': 200, 'content-type': 'application/grpc' });
    call.stream.write(grpcMessage(Buffer.from('first')));
  });
  const { address } = await startProxy(t, proxyConfig([backend.address]));
  const session = await rawSession(t, address);
  const arrived = backend.nextStream();
  const replying = rawCall(session, PATH);
  await arrived;
  backend.crash();
  const reply = await replying;
  t.equal(reply.grpcStatus, '14', 'UNAVAILABLE in trailers after the first message');
  t.notOk(reply.trailersOnly);
  t.match(String(reply.trailers?.['grpc-message']), /upstream/);
});

const resets: readonly [string, number, string][] = [
  ['CANCEL', http2.constants.NGHTTP2_CANCEL, '1'],
  ['ENHANCE_YOUR_CALM', http2.constants.NGHTTP2_ENHANCE_YOUR_CALM, '8'],
  ['INADEQUATE_SECURITY', http2.constants.NGHTTP2_INADEQUATE_SECURITY, '7'],
  ['PROTOCOL_ERROR', http2.constants.NGHTTP2_PROTOCOL_ERROR, '13'],
  ['NO_ERROR before any reply', http2.constants.NGHTTP2_NO_ERROR, '13'],
];
for (const [name, code, status] of resets) {
  void t.test(`an upstream RST_STREAM ${name} maps to grpc-status ${status}`, async (t) => {
    const backend = await startRawBackend(t, (call: RawStream) => call.stream.close(code));
    const { address } = await startProxy(t, proxyConfig([backend.address]));
    const reply = await rawCall(await rawSession(t, address), PATH);
    t.equal(reply.grpcStatus, status);
    t.ok(reply.trailersOnly);
  });
}

void t.test('RST_STREAM(NO_ERROR) after a complete reply is not an error', async (t) => {
  const backend = await startRawBackend(t, (call: RawStream) => {
    // Answer before the request ends, then stop the client's upload (RFC 9113 §8.1).
    call.stream.respond(
      { ':status': 200, 'content-type': 'application/grpc' },
      { waitForTrailers: true },
    );
    call.stream.on('wantTrailers', () => {
      call.stream.sendTrailers({ 'grpc-status': '0' });
      // A turn later: node:http2 drops trailers closed in the same turn.
      setImmediate(() => call.stream.close(http2.constants.NGHTTP2_NO_ERROR));
    });
    call.stream.end(grpcMessage(Buffer.from('early')));
  });
  const { address } = await startProxy(t, proxyConfig([backend.address]));
  const session = await rawSession(t, address);
  const stream = grpcRequest(session, PATH);
  stream.write(grpcMessage(Buffer.from('still sending')));
  const trailers = await new Promise<http2.IncomingHttpHeaders>((resolve, reject) => {
    stream.on('trailers', resolve);
    stream.on('error', reject);
    stream.resume();
  });
  t.equal(trailers['grpc-status'], '0');
});

const nonGrpc: readonly [string, OutgoingHttpHeaders, string][] = [
  ['HTTP 503 text/html', { ':status': 503, 'content-type': 'text/html' }, '14'],
  ['HTTP 404', { ':status': 404 }, '12'],
  ['HTTP 401', { ':status': 401 }, '16'],
  ['HTTP 500', { ':status': 500 }, '2'],
  ['200 text/html', { ':status': 200, 'content-type': 'text/html' }, '2'],
];
for (const [name, headers, status] of nonGrpc) {
  void t.test(`a gRPC call answered ${name} gets grpc-status ${status}`, async (t) => {
    const backend = await startRawBackend(t, (call: RawStream) => {
      call.stream.respond(headers);
      call.stream.end('<html>oops</html>');
    });
    const { address } = await startProxy(t, proxyConfig([backend.address]));
    const reply = await rawCall(await rawSession(t, address), PATH);
    t.equal(reply.grpcStatus, status);
    t.equal(reply.headers[':status'], 200, 'HTTP 200 to the gRPC client');
    t.equal(reply.body.length, 0, 'no HTML passed on');
  });
}

void t.test('a gRPC reply that ends without grpc-status is UNKNOWN, not OK', async (t) => {
  const backend = await startRawBackend(t, (call: RawStream) => {
    call.stream.respond({ ':status': 200, 'content-type': 'application/grpc' });
    call.stream.end(grpcMessage(Buffer.from('no status follows')));
  });
  const { address } = await startProxy(t, proxyConfig([backend.address]));
  const reply = await rawCall(await rawSession(t, address), PATH);
  t.equal(reply.grpcStatus, '2');
});

void t.test('grpc-js sees the same statuses (deadline through the proxy)', async (t) => {
  const { client } = await proxiedEcho(t, ['b1']);
  const call = client.serverStream({ count: 1_000_000, replySize: 1024 }, new grpc.Metadata(), {
    deadline: Date.now() + 100,
  });
  const error = await serviceError(
    new Promise((resolve, reject) => {
      call.on('data', () => undefined);
      call.on('error', reject);
      call.on('end', resolve);
    }),
  );
  t.equal(error.code, grpc.status.DEADLINE_EXCEEDED);
});
