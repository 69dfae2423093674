// Every gRPC call shape through the proxy, in volume: unary, a 10,000-message
// server stream, client streaming, 1,000 bidi round trips on one stream, and
// 16 MiB messages each way.
import { once } from 'node:events';
import { randomBytes } from 'node:crypto';
import t from 'tap';
import * as grpc from '@grpc/grpc-js';
import { collect, nextReply } from '../helpers/echo-client.js';
import { proxiedEcho } from '../helpers/harness.js';

void t.test('unary call', async (t) => {
  const { client, backends } = await proxiedEcho(t);
  const payload = Buffer.from([0, 1, 2, 3, 254, 255]);
  const result = await client.unary({ message: 'hello through the proxy', payload });
  t.equal(result.status.code, grpc.status.OK);
  t.equal(result.reply.message, 'hello through the proxy');
  t.ok(result.reply.payload.equals(payload), 'payload echoed byte for byte');
  t.equal(result.reply.backend, 'b1');
  t.equal(backends[0]?.calls, 1);
});

void t.test('server stream of 10,000 messages arrives complete and in order', async (t) => {
  const { client } = await proxiedEcho(t);
  const count = 10_000;
  const result = await collect(client.serverStream({ message: 'tick', count, replySize: 64 }));
  t.equal(result.status.code, grpc.status.OK);
  t.equal(result.replies.length, count);
  const outOfOrder = result.replies.findIndex((reply, i) => reply.index !== i);
  t.equal(outOfOrder, -1, 'indices are 0..9999 in order');
  t.ok(
    result.replies.every((r) => r.payload.length === 64 && r.backend === 'b1'),
    'every reply carries its 64-byte payload',
  );
});

void t.test('empty server stream (count 0) ends OK', async (t) => {
  const { client, backends } = await proxiedEcho(t);
  const result = await collect(client.serverStream({ message: 'nothing', count: 0 }));
  t.equal(result.status.code, grpc.status.OK);
  t.same(result.replies, []);
  t.equal(backends[0]?.calls, 1, 'the call reached the backend');
});

void t.test('client stream of 1,000 messages is summed by the backend', async (t) => {
  const { client } = await proxiedEcho(t);
  const { call, result } = client.clientStream();
  let expected = 0;
  for (let i = 0; i < 1000; i++) {
    const payload = Buffer.alloc(1024 + (i % 7), i % 256);
    expected += payload.length;
    if (!call.write({ message: `part ${i}`, payload })) await once(call, 'drain');
  }
  call.end();
  const { reply, status } = await result;
  t.equal(status.code, grpc.status.OK);
  t.equal(reply.index, 1000, 'the backend received every message');
  t.equal(reply.totalBytes, expected);
  t.equal(reply.message, 'part 999');
});

void t.test('bidi: 1,000 ping-pong round trips on one stream', async (t) => {
  const { client, backends } = await proxiedEcho(t);
  const call = client.bidi();
  for (let i = 0; i < 1000; i++) {
    call.write({ message: `ping ${i}` });
    const reply = await nextReply(call);
    if (reply.message !== `ping ${i}` || reply.index !== i) {
      t.fail(`round trip ${i} got ${reply.message} #${reply.index}`);
      break;
    }
  }
  call.end();
  const rest = await collect(call);
  t.equal(rest.status.code, grpc.status.OK);
  t.equal(rest.replies.length, 0, 'no stray replies');
  t.equal(backends[0]?.calls, 1, 'all round trips were one call');
});

void t.test('16 MiB unary request and 16 MiB reply', async (t) => {
  const { client } = await proxiedEcho(t);
  const payload = randomBytes(16 * 1024 * 1024);
  const result = await client.unary({ message: 'big', payload });
  t.equal(result.status.code, grpc.status.OK);
  t.equal(result.reply.payload.length, payload.length);
  t.ok(result.reply.payload.equals(payload), '16 MiB came back byte for byte');
});
