// The client role against a scripted raw server: PUSH_PROMISE and
// ENABLE_PUSH 1 are connection errors, an oversize or malformed response
// fails only its stream, 1xx heads are skipped, and a missing SETTINGS ACK
// times out. Also the server role's SETTINGS timeout against a raw client.
import { once } from 'node:events';
import * as net from 'node:net';
import type { AddressInfo } from 'node:net';
import t, { type Test } from 'tap';
import {
  FLAG_ACK,
  FLAG_END_HEADERS,
  FLAG_END_STREAM,
  FRAME_DATA,
  FRAME_GOAWAY,
  FRAME_HEADERS,
  FRAME_PUSH_PROMISE,
  FRAME_SETTINGS,
  NO_ERROR,
  PROTOCOL_ERROR,
  SETTINGS_TIMEOUT,
} from '../../../src/h2/constants.js';
import { FrameReader } from '../../../src/h2/frame-reader.js';
import { connectH2 } from '../../../src/h2/h2-client.js';
import type { H2Connection } from '../../../src/h2/h2-connection.js';
import { HpackEncoder } from '../../../src/h2/hpack/hpack-encoder.js';
import { CollectHandler, field, startEngineServer } from './engine-helpers.js';
import { frame, u32, type Frame } from './raw-peer.js';

const REQUEST = [':method', 'POST', ':scheme', 'http', ':path', '/', ':authority', 'x'];

interface Script {
  /** Our SETTINGS payload pairs. */
  settings?: number[];
  /** Acknowledge the client's SETTINGS (default true). */
  ack?: boolean;
  onFrame(f: Frame, send: (...b: Buffer[]) => void, encoder: HpackEncoder): void;
}

/** A raw HTTP/2 server: checks nothing, answers what the script says; records frames. */
async function rawServer(t: Test, script: Script): Promise<{ port: number; frames: Frame[] }> {
  const frames: Frame[] = [];
  const server = net.createServer((socket) => {
    socket.on('error', () => undefined);
    const encoder = new HpackEncoder();
    const send = (...b: Buffer[]): void => {
      if (!socket.destroyed) socket.write(Buffer.concat(b));
    };
    const pairs = script.settings ?? [];
    const payload = Buffer.alloc((pairs.length / 2) * 6);
    for (let i = 0; i < pairs.length; i += 2) {
      payload.writeUInt16BE(pairs[i] ?? 0, i * 3);
      payload.writeUInt32BE(pairs[i + 1] ?? 0, i * 3 + 2);
    }
    send(frame(FRAME_SETTINGS, 0, 0, payload));
    const reader = new FrameReader(
      {
        onFrame(type, flags, streamId, buffer, start, end) {
          const f = { type, flags, streamId, payload: Buffer.from(buffer.subarray(start, end)) };
          frames.push(f);
          if (type === FRAME_SETTINGS && (flags & FLAG_ACK) === 0 && script.ack !== false) {
            send(frame(FRAME_SETTINGS, FLAG_ACK, 0));
          }
          script.onFrame(f, send, encoder);
        },
      },
      1 << 24,
      true,
    );
    socket.on('data', (chunk: Buffer) => reader.push(chunk));
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  t.teardown(() => server.close());
  return { port: (server.address() as AddressInfo).port, frames };
}

function client(
  t: Test,
  port: number,
  settings: { maxHeaderListSize?: number } = {},
): { connection: H2Connection; errors: Error[]; closed: Promise<void> } {
  const errors: Error[] = [];
  let closed!: () => void;
  const closedP = new Promise<void>((r) => (closed = r));
  const connection = connectH2(
    '127.0.0.1',
    port,
    { role: 'client', settings },
    { onError: (e) => errors.push(e), onClose: closed },
  );
  t.teardown(() => connection.destroy());
  return { connection, errors, closed: closedP };
}

void t.test('PUSH_PROMISE is a connection error for a client', async (t) => {
  const { port, frames } = await rawServer(t, {
    onFrame(f, send, encoder) {
      if (f.type !== FRAME_HEADERS) return;
      const promised = Buffer.concat([u32(2), encoder.encode(REQUEST)]);
      send(frame(FRAME_PUSH_PROMISE, FLAG_END_HEADERS, f.streamId, promised));
    },
  });
  const { connection, errors, closed } = client(t, port);
  const handler = new CollectHandler();
  connection.request(REQUEST, true, handler);
  const r = await handler.done;
  t.same([r.code, r.reason], [PROTOCOL_ERROR, 'connection_lost']);
  await closed;
  t.match(errors[0]?.message ?? '', /PUSH_PROMISE/);
  const goaway = frames.find((f) => f.type === FRAME_GOAWAY);
  t.equal(goaway?.payload.readUInt32BE(4), PROTOCOL_ERROR);
});

void t.test('a server enabling push is a connection error', async (t) => {
  const { port } = await rawServer(t, { settings: [2, 1], onFrame: () => undefined });
  const { errors, closed } = client(t, port);
  await closed;
  t.match(errors[0]?.message ?? '', /push/);
});

void t.test(
  '1xx heads are skipped; malformed and oversize responses fail their stream only',
  async (t) => {
    const { port } = await rawServer(t, {
      onFrame(f, send, encoder) {
        if (f.type !== FRAME_HEADERS) return;
        const id = f.streamId;
        const head = (fields: string[], flags = 0): Buffer =>
          frame(FRAME_HEADERS, FLAG_END_HEADERS | flags, id, encoder.encode(fields));
        if (id === 1) {
          send(
            head([':status', '103', 'link', '</a>']),
            head([':status', '200']),
            frame(FRAME_DATA, 0, id, Buffer.from('body')),
            head(['grpc-status', '0'], FLAG_END_STREAM),
          );
        } else if (id === 3) {
          send(frame(FRAME_DATA, FLAG_END_STREAM, id, Buffer.from('no head')));
        } else if (id === 5) {
          send(head([':status', '200', 'x-big', 'v'.repeat(3000)], FLAG_END_STREAM));
        } else {
          send(head([':status', '200', 'connection', 'close'], FLAG_END_STREAM));
        }
      },
    });
    const { connection } = client(t, port, { maxHeaderListSize: 1000 });
    const handlers = [1, 3, 5, 7].map(() => new CollectHandler());
    for (const h of handlers) connection.request(REQUEST, true, h);
    const [ok, noHead, big, bad] = await Promise.all(handlers.map((h) => h.done));
    t.equal(ok?.heads.length, 1, 'the 103 was skipped');
    t.equal(field(ok?.heads[0], ':status'), '200');
    t.equal(ok?.body.toString(), 'body');
    t.equal(field(ok?.trailers, 'grpc-status'), '0');
    t.same([ok?.code, ok?.reason], [NO_ERROR, 'complete']);
    t.same([noHead?.code, noHead?.reason], [PROTOCOL_ERROR, 'reset_local']);
    t.same([big?.code, big?.reason], [PROTOCOL_ERROR, 'reset_local']);
    t.same([bad?.code, bad?.reason], [PROTOCOL_ERROR, 'reset_local']);
    t.equal(connection.closed, false, 'the connection survives');
  },
);

void t.test('no SETTINGS ACK: GOAWAY SETTINGS_TIMEOUT (client role)', async (t) => {
  const { port, frames } = await rawServer(t, { ack: false, onFrame: () => undefined });
  const errors: Error[] = [];
  let closed!: () => void;
  const closedP = new Promise<void>((r) => (closed = r));
  const connection = connectH2(
    '127.0.0.1',
    port,
    { role: 'client', settingsTimeoutMs: 50 },
    { onError: (e) => errors.push(e), onClose: closed },
  );
  t.teardown(() => connection.destroy());
  await closedP;
  t.equal(frames.find((f) => f.type === FRAME_GOAWAY)?.payload.readUInt32BE(4), SETTINGS_TIMEOUT);
  t.match(errors[0]?.message ?? '', /SETTINGS_TIMEOUT/);
});

void t.test('no SETTINGS ACK: GOAWAY SETTINGS_TIMEOUT (server role)', async (t) => {
  const server = await startEngineServer({}, { settingsTimeoutMs: 50 });
  t.teardown(() => server.close());
  const socket = net.connect(server.port, '127.0.0.1');
  socket.on('error', () => undefined);
  const chunks: Buffer[] = [];
  socket.on('data', (c: Buffer) => chunks.push(c));
  const { CLIENT_PREFACE } = await import('../../../src/h2/constants.js');
  socket.write(Buffer.concat([CLIENT_PREFACE, frame(FRAME_SETTINGS, 0, 0)]));
  await once(socket, 'close');
  const all = Buffer.concat(chunks);
  const at = all.indexOf(Buffer.from([FRAME_GOAWAY, 0, 0, 0, 0, 0]));
  t.ok(at > 0);
  t.equal(all.readUInt32BE(at + 10), SETTINGS_TIMEOUT);
});
