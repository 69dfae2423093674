/**
 * gRFC A6 transparent retries: a call the backend never saw (connection
 * refused, REFUSED_STREAM) is replayed, so the client sees success; a call
 * whose body outgrew the replay buffer, or that a backend did see, is not.
 */
import http2 from 'node:http2';
import t from 'tap';
import { deadAddress, startBackends, connectClient } from '../helpers/harness.js';
import { proxyConfig, startProxy } from '../helpers/proxy.js';
import { replyOk, startRawBackend, type RawStream } from '../helpers/raw-backend.js';
import { rawCall, rawSession } from '../helpers/raw-client.js';

const PATH = '/switchyard.test.Echo/Unary';

void t.test('a dead endpoint among live ones costs the client nothing', async (t) => {
  const backends = await startBackends(t, ['b1', 'b2']);
  const dead = await deadAddress();
  const { address } = await startProxy(t, proxyConfig([dead, ...backends.map((b) => b.address)]));
  const client = connectClient(t, address);
  for (let i = 0; i < 9; i++) {
    const { reply } = await client.unary({ message: `call ${i}` });
    t.equal(reply.message, `call ${i}`);
  }
  t.equal(
    backends.reduce((sum, b) => sum + b.calls, 0),
    9,
    'every call served by a live backend',
  );
});

void t.test('REFUSED_STREAM is replayed once, with the request body', async (t) => {
  let refused = 0;
  const backend = await startRawBackend(t, (call: RawStream) => {
    if (refused === 0) {
      refused++;
      call.stream.close(http2.constants.NGHTTP2_REFUSED_STREAM);
      return;
    }
    replyOk(call);
  });
  const bodies: Buffer[] = [];
  backend.server.on('stream', (stream) => {
    const chunks: Buffer[] = [];
    stream.on('data', (c: Buffer) => chunks.push(c));
    stream.on('end', () => bodies.push(Buffer.concat(chunks)));
  });
  const { address } = await startProxy(t, proxyConfig([backend.address]));
  const session = await rawSession(t, address);
  const body = Buffer.from([0, 0, 0, 0, 3, 1, 2, 3]);
  const reply = await rawCall(session, PATH, {}, body);
  t.equal(reply.grpcStatus, '0', 'client sees success');
  t.equal(backend.streams.length, 2, 'backend saw a refused stream, then the replay');
  t.same(bodies.at(-1), body, 'the replay carried the whole request body');
});

void t.test('REFUSED_STREAM twice: the second is the answer (UNAVAILABLE)', async (t) => {
  const backend = await startRawBackend(t, (call: RawStream) => {
    call.stream.close(http2.constants.NGHTTP2_REFUSED_STREAM);
  });
  const { address } = await startProxy(t, proxyConfig([backend.address]));
  const session = await rawSession(t, address);
  const reply = await rawCall(session, PATH);
  t.equal(reply.grpcStatus, '14');
  t.equal(backend.streams.length, 2, 'one transparent retry, not more');
});

void t.test('a request body beyond the replay buffer is not replayed', async (t) => {
  const backend = await startRawBackend(t, (call: RawStream) => {
    call.stream.resume();
    call.stream.on('end', () => call.stream.close(http2.constants.NGHTTP2_REFUSED_STREAM));
  });
  const { address } = await startProxy(t, proxyConfig([backend.address]));
  const session = await rawSession(t, address);
  const big = Buffer.alloc(5 + 200 * 1024);
  big.writeUInt32BE(200 * 1024, 1);
  const reply = await rawCall(session, PATH, {}, big);
  t.equal(reply.grpcStatus, '14', 'UNAVAILABLE from the refused stream');
  t.equal(backend.streams.length, 1, 'no replay');
});

void t.test('a backend that reset after seeing the call is not retried', async (t) => {
  const backend = await startRawBackend(t, (call: RawStream) => {
    call.stream.close(http2.constants.NGHTTP2_INTERNAL_ERROR);
  });
  const { address } = await startProxy(t, proxyConfig([backend.address]));
  const session = await rawSession(t, address);
  const reply = await rawCall(session, PATH);
  t.equal(reply.grpcStatus, '13', 'INTERNAL_ERROR → INTERNAL');
  t.equal(backend.streams.length, 1);
});
