// The echo backend and client fixtures, talking directly (no proxy): if these
// fail, every proxy test that uses them is meaningless.
import t from 'tap';
import * as grpc from '@grpc/grpc-js';
import type { TestContext } from '../helpers/context.js';
import { startEchoBackend, STATUS_DETAILS_KEY, type EchoBackend } from '../helpers/echo-backend.js';
import {
  collect,
  echoClient,
  nextReply,
  serviceError,
  type EchoClient,
} from '../helpers/echo-client.js';

async function setup(t: TestContext): Promise<{ backend: EchoBackend; client: EchoClient }> {
  const backend = await startEchoBackend('direct');
  const client = echoClient(backend.address);
  t.teardown(async () => {
    client.close();
    await backend.close();
  });
  return { backend, client };
}

void t.test('unary echoes message, payload and x-echo- metadata', async (t) => {
  const { backend, client } = await setup(t);
  const metadata = new grpc.Metadata();
  metadata.set('x-echo-foo', 'bar');
  metadata.set('x-echo-raw-bin', Buffer.from([0, 1, 2, 255]));
  metadata.set('x-other', 'not echoed');

  const result = await client.unary({ message: 'hello', payload: Buffer.from('abc') }, metadata);

  t.equal(result.status.code, grpc.status.OK);
  t.equal(result.reply.message, 'hello');
  t.same(result.reply.payload, Buffer.from('abc'));
  t.equal(result.reply.backend, 'direct');
  t.same(result.headers.get('x-echo-foo'), ['bar']);
  t.same(result.headers.get('x-echo-raw-bin'), [Buffer.from([0, 1, 2, 255])]);
  t.same(result.headers.get('x-other'), []);
  t.same(result.trailers.get('x-echo-foo-trailer'), ['bar']);
  t.same(result.trailers.get('x-echo-raw-trailer-bin'), [Buffer.from([0, 1, 2, 255])]);
  t.equal(backend.calls, 1);
  t.equal(backend.lastMetadata?.get('x-other')[0], 'not echoed');
});

void t.test('unary failure carries code, message and status details', async (t) => {
  const { client } = await setup(t);
  const details = Buffer.from([0x08, 0x05, 0x12, 0x00, 0xff]);
  const error = await serviceError(
    client.unary({
      failCode: grpc.status.NOT_FOUND,
      failMessage: 'no such thing',
      failDetails: details,
    }),
  );
  t.equal(error.code, grpc.status.NOT_FOUND);
  t.equal(error.details, 'no such thing');
  t.same(error.metadata.get(STATUS_DETAILS_KEY), [details]);
});

void t.test('server stream sends count replies of reply_size bytes', async (t) => {
  const { client } = await setup(t);
  const result = await collect(client.serverStream({ message: 's', count: 50, replySize: 1000 }));
  t.equal(result.status.code, grpc.status.OK);
  t.equal(result.replies.length, 50);
  t.same(
    result.replies.map((r) => r.index),
    Array.from({ length: 50 }, (_, i) => i),
  );
  t.ok(result.replies.every((r) => r.payload.length === 1000 && r.backend === 'direct'));
});

void t.test('client stream sums payload bytes', async (t) => {
  const { client } = await setup(t);
  const { call, result } = client.clientStream();
  for (let i = 1; i <= 10; i++) call.write({ message: `m${i}`, payload: Buffer.alloc(i) });
  call.end();
  const { reply } = await result;
  t.equal(reply.totalBytes, 55);
  t.equal(reply.index, 10);
  t.equal(reply.message, 'm10');
});

void t.test('bidi replies to each message', async (t) => {
  const { client } = await setup(t);
  const call = client.bidi();
  for (let i = 0; i < 5; i++) {
    call.write({ message: `ping ${i}` });
    const reply = await nextReply(call);
    t.equal(reply.message, `ping ${i}`);
    t.equal(reply.index, i);
  }
  call.end();
  const rest = await collect(call);
  t.equal(rest.replies.length, 0);
  t.equal(rest.status.code, grpc.status.OK);
});

void t.test('the backend reports a cancelled call, and not a finished one', async (t) => {
  const { backend, client } = await setup(t);
  await client.unary({ message: 'finished' });
  const call = client.bidi();
  call.write({ message: 'first' });
  await nextReply(call);
  const cancelled = backend.onCancelled();
  call.on('error', () => undefined);
  call.cancel();
  t.same(await cancelled, { backend: 'direct', method: 'Bidi' });
  t.equal(backend.cancellations, 1);
});
