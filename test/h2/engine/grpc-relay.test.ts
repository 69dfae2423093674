// End to end through the engine: a grpc-js client calls a tiny relay made of
// an H2Connection server (downstream) whose streams are copied onto
// connectH2 client streams (upstream) to a real grpc-js Echo backend. Heads,
// DATA, trailers and resets are copied both ways; backpressure pauses the
// side that feeds a full stream. DATA slices are forwarded without copying.
import { once } from 'node:events';
import * as net from 'node:net';
import type { AddressInfo } from 'node:net';
import * as grpc from '@grpc/grpc-js';
import t from 'tap';
import { CANCEL } from '../../../src/h2/constants.js';
import { connectH2 } from '../../../src/h2/h2-client.js';
import { H2Connection } from '../../../src/h2/h2-connection.js';
import type { H2Stream, StreamHandler } from '../../../src/h2/h2-stream.js';
import type { HeaderFields } from '../../../src/h2/header-fields.js';
import { startEchoBackend, statusCode } from '../../helpers/echo-backend.js';
import { collect, echoClient, serviceError } from '../../helpers/echo-client.js';

/** One direction of a relayed call: what `own` receives goes to `peer`. */
class Leg implements StreamHandler {
  own!: H2Stream;
  peer!: Leg;

  onHeaders(fields: HeaderFields, endStream: boolean): void {
    // A response head, or trailers either way: sendHeaders sends trailers once a head went out.
    this.peer.own.sendHeaders(fields, endStream);
  }

  onData(chunk: Buffer, endStream: boolean): void {
    const target = this.peer.own;
    if (chunk.length > 0 && !target.write(chunk)) this.own.pause();
    if (endStream) target.end();
  }

  onWritable(): void {
    this.peer.own.resume();
  }

  onClose(code: number): void {
    if (code !== 0) this.peer.own.reset(CANCEL);
  }
}

interface Relay {
  readonly port: number;
  close(): Promise<void>;
}

async function startRelay(backendPort: number): Promise<Relay> {
  const upstream = connectH2('127.0.0.1', backendPort, { role: 'client' }, {});
  const sockets = new Set<net.Socket>();
  const server = net.createServer((socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
    new H2Connection(
      socket,
      { role: 'server' },
      {
        onStream(stream, fields, endStream) {
          const down = new Leg();
          const up = new Leg();
          down.own = stream;
          down.peer = up;
          up.peer = down;
          stream.handler = down;
          up.own = upstream.request(fields, endStream, up);
        },
      },
    );
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  return {
    port: (server.address() as AddressInfo).port,
    close: async () => {
      upstream.destroy();
      for (const socket of sockets) socket.destroy();
      server.close();
      await once(server, 'close');
    },
  };
}

void t.test('grpc-js through an engine relay to a grpc-js backend', async (t) => {
  const backend = await startEchoBackend('b1');
  t.teardown(() => backend.close());
  const relay = await startRelay(backend.port);
  t.teardown(() => relay.close());
  const client = echoClient(`127.0.0.1:${relay.port}`);
  t.teardown(() => client.close());

  const metadata = new grpc.Metadata();
  metadata.set('x-echo-foo', 'bar');
  const unary = await client.unary({ message: 'hi', payload: Buffer.from('pay') }, metadata);
  t.equal(unary.reply.message, 'hi');
  t.equal(unary.reply.backend, 'b1');
  t.equal(unary.reply.payload.toString(), 'pay');
  t.same(unary.headers.get('x-echo-foo'), ['bar']);
  t.same(unary.trailers.get('x-echo-foo-trailer'), ['bar']);
  t.equal(unary.status.code, grpc.status.OK);

  const big = await client.unary({ message: 'big', replySize: 4 * 1024 * 1024 });
  t.equal(big.reply.payload.length, 4 * 1024 * 1024);
  const bigUp = await client.unary({ payload: Buffer.alloc(3 * 1024 * 1024, 7) });
  t.equal(bigUp.reply.payload.length, 3 * 1024 * 1024);

  const failed = await serviceError(
    client.unary({ failCode: grpc.status.NOT_FOUND, failMessage: 'nope' }),
  );
  t.equal(failed.code, statusCode(grpc.status.NOT_FOUND));
  t.equal(failed.details, 'nope');

  const streamed = await collect(client.serverStream({ count: 50, replySize: 1000 }));
  t.equal(streamed.replies.length, 50);
  t.equal(streamed.status.code, grpc.status.OK);

  const { call, result } = client.clientStream();
  for (let i = 0; i < 20; i++) call.write({ payload: Buffer.alloc(10_000) });
  call.end();
  t.equal((await result).reply.totalBytes, 200_000);

  const bidi = client.bidi();
  const bidiResult = collect(bidi);
  for (let i = 0; i < 10; i++) bidi.write({ message: `m${i}` });
  bidi.end();
  const bidiReplies = (await bidiResult).replies.map((r) => r.message);
  t.same(
    bidiReplies,
    Array.from({ length: 10 }, (_, i) => `m${i}`),
  );

  const many = await Promise.all(
    Array.from({ length: 200 }, (_, i) => client.unary({ message: `c${i}` })),
  );
  t.ok(many.every((r, i) => r.reply.message === `c${i}`));
});

void t.test('a cancelled grpc-js call resets the stream through the relay', async (t) => {
  const backend = await startEchoBackend('b2');
  t.teardown(() => backend.close());
  const relay = await startRelay(backend.port);
  t.teardown(() => relay.close());
  const client = echoClient(`127.0.0.1:${relay.port}`);
  t.teardown(() => client.close());
  const stream = client.bidi();
  stream.on('error', () => undefined);
  const callSeen = once(backend.events, 'call');
  stream.write({ message: 'first' });
  await callSeen;
  const cancelled = backend.onCancelled();
  stream.cancel();
  const seen = await cancelled;
  t.equal(seen.method, 'Bidi');
});
