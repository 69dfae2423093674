// The client role's connection lifecycle against a scripted raw server, as
// the session pool relies on it: streams sent before the peer's SETTINGS
// (`peerMaxConcurrentStreams`), a GOAWAY with an error code (the connection
// ends; streams at or below last-stream-id are lost, above it refused), a
// peer that accepts and dies before its SETTINGS (sent streams lost, queued
// ones refused), and a socket error reported before any stream closes.
import { once } from 'node:events';
import * as net from 'node:net';
import type { AddressInfo } from 'node:net';
import t, { type Test } from 'tap';
import {
  CANCEL,
  ENHANCE_YOUR_CALM,
  FLAG_ACK,
  FLAG_END_HEADERS,
  FLAG_END_STREAM,
  FRAME_GOAWAY,
  FRAME_HEADERS,
  FRAME_SETTINGS,
  REFUSED_STREAM,
  SETTINGS_MAX_CONCURRENT_STREAMS,
} from '../../../src/h2/constants.js';
import { FrameReader } from '../../../src/h2/frame-reader.js';
import { connectH2, type ClientOptions } from '../../../src/h2/h2-client.js';
import type { H2Connection } from '../../../src/h2/h2-connection.js';
import { H2ConnectionError } from '../../../src/h2/h2-error.js';
import { HpackEncoder } from '../../../src/h2/hpack/hpack-encoder.js';
import { deadAddress } from '../../helpers/harness.js';
import type { StreamCloseReason } from '../../../src/h2/h2-stream.js';
import { CollectHandler, type Received } from './engine-helpers.js';
import { frame, u32, type Frame } from './raw-peer.js';

const REQUEST = [':method', 'POST', ':scheme', 'http', ':path', '/', ':authority', 'x'];

/** One accepted connection of the raw server, as a script drives it. */
interface RawConnection {
  readonly socket: net.Socket;
  /** SETTINGS with these id/value pairs. */
  settings(pairs?: number[]): void;
  /** A complete response (`:status 200`, END_STREAM) on `streamId`. */
  respond(streamId: number): void;
  send(...b: Buffer[]): void;
}

/**
 * A raw HTTP/2 server that sends nothing on its own (not even SETTINGS) and
 * hands every client frame to `onFrame`; it acknowledges the client's SETTINGS.
 */
async function rawServer(t: Test, onFrame: (f: Frame, c: RawConnection) => void): Promise<number> {
  const server = net.createServer((socket) => {
    socket.on('error', () => undefined);
    const encoder = new HpackEncoder();
    const send = (...b: Buffer[]): void => {
      if (!socket.destroyed) socket.write(Buffer.concat(b));
    };
    const connection: RawConnection = {
      socket,
      send,
      settings: (pairs = []) => {
        const payload = Buffer.alloc((pairs.length / 2) * 6);
        for (let i = 0; i < pairs.length; i += 2) {
          payload.writeUInt16BE(pairs[i] ?? 0, i * 3);
          payload.writeUInt32BE(pairs[i + 1] ?? 0, i * 3 + 2);
        }
        send(frame(FRAME_SETTINGS, 0, 0, payload));
      },
      respond: (id) => {
        const block = encoder.encode([':status', '200']);
        send(frame(FRAME_HEADERS, FLAG_END_HEADERS | FLAG_END_STREAM, id, block));
      },
    };
    const reader = new FrameReader(
      {
        onFrame(type, flags, streamId, buffer, start, end) {
          const p = buffer.subarray(start, end);
          if (type === FRAME_SETTINGS && (flags & FLAG_ACK) === 0) {
            send(frame(FRAME_SETTINGS, FLAG_ACK, 0));
          }
          onFrame({ type, flags, streamId, payload: Buffer.from(p) }, connection);
        },
      },
      1 << 24,
      true,
    );
    socket.on('data', (chunk: Buffer) => {
      if (!socket.destroyed) reader.push(chunk);
    });
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  t.teardown(() => server.close());
  return (server.address() as AddressInfo).port;
}

/** Collects a stream, and logs its close synchronously (the order against connection events matters). */
class LoggedHandler extends CollectHandler {
  id = 0;
  constructor(private readonly log: string[]) {
    super();
  }

  override onClose(code: number, reason: StreamCloseReason): void {
    this.log.push(`stream ${this.id}`);
    super.onClose(code, reason);
  }
}

interface Client {
  readonly connection: H2Connection;
  /** What the connection reported, in order: `error`, `goaway`, and `stream N` for each stream close. */
  readonly log: string[];
  readonly closed: Promise<void>;
  /** Opens a request that ends at once, its closes logged. */
  readonly request: () => Promise<Received>;
}

function client(t: Test, port: number, options: Omit<ClientOptions, 'role'> = {}): Client {
  const log: string[] = [];
  let closed!: () => void;
  const closedP = new Promise<void>((r) => (closed = r));
  const connection = connectH2('127.0.0.1', port, options, {
    onError: () => log.push('error'),
    onGoaway: () => log.push('goaway'),
    onClose: closed,
  });
  t.teardown(() => connection.destroy());
  return {
    connection,
    log,
    closed: closedP,
    request: () => {
      const handler = new LoggedHandler(log);
      handler.id = connection.request(REQUEST, true, handler).id;
      return handler.done;
    },
  };
}

const outcome = (r: Received): [number, string] => [r.code, r.reason];

void t.test('peerMaxConcurrentStreams: streams sent before SETTINGS, the rest wait', async (t) => {
  let heads = 0;
  let beforeAck = -1;
  const port = await rawServer(t, (f, c) => {
    if (f.type === FRAME_HEADERS) {
      heads++;
      // After SETTINGS: answer at once; each answer frees the slot the next takes.
      if (beforeAck >= 0) c.respond(f.streamId);
      // The first batch is in: now say how many fit.
      if (heads === 2) c.settings([SETTINGS_MAX_CONCURRENT_STREAMS, 2]);
    }
    if (f.type === FRAME_SETTINGS && (f.flags & FLAG_ACK) !== 0) {
      // The client's ACK follows (on the same ordered socket) all it sent before.
      beforeAck = heads;
      c.respond(1);
      c.respond(3);
    }
  });
  const { request } = client(t, port, { peerMaxConcurrentStreams: 2 });
  const results = await Promise.all(Array.from({ length: 5 }, () => request()));
  t.same(
    results.map(outcome),
    Array.from({ length: 5 }, () => [0, 'complete']),
  );
  t.equal(beforeAck, 2, 'two streams sent before the SETTINGS, the other three after');
});

void t.test('by default up to 100 streams go out before SETTINGS', async (t) => {
  let seen = 0;
  let whenAll!: () => void;
  const all = new Promise<void>((r) => (whenAll = r));
  const port = await rawServer(t, (f) => {
    if (f.type === FRAME_HEADERS && ++seen === 5) whenAll();
  });
  const { connection, request } = client(t, port);
  for (let i = 0; i < 5; i++) void request();
  await all;
  t.equal(connection.remoteSettingsReceived, false, 'all 5 arrived with no SETTINGS sent');
});

void t.test('GOAWAY with an error code ends the connection', async (t) => {
  const port = await rawServer(t, (f, c) => {
    if (f.type === FRAME_SETTINGS && (f.flags & FLAG_ACK) === 0) c.settings();
    // Stream 5 arrived: the peer took 1 and 3 only, and gives up on the connection.
    if (f.type === FRAME_HEADERS && f.streamId === 5) {
      c.send(frame(FRAME_GOAWAY, 0, 0, u32(3, ENHANCE_YOUR_CALM)));
    }
  });
  const { connection, log, closed, request } = client(t, port);
  const results = await Promise.all([request(), request(), request()]);
  t.same(results.map(outcome), [
    [ENHANCE_YOUR_CALM, 'connection_lost'],
    [ENHANCE_YOUR_CALM, 'connection_lost'],
    [REFUSED_STREAM, 'refused'],
  ]);
  t.same(
    log,
    ['goaway', 'error', 'stream 5', 'stream 1', 'stream 3'],
    'GOAWAY and its error reported before any stream closes',
  );
  t.equal(connection.closed, true, 'no longer usable');
  await closed;
});

void t.test('a peer that accepts and closes before its SETTINGS', async (t) => {
  const port = await rawServer(t, (f, c) => {
    if (f.type === FRAME_HEADERS) c.socket.destroy();
  });
  const { request } = client(t, port, { peerMaxConcurrentStreams: 1 });
  const results = await Promise.all([request(), request()]);
  t.same(
    results.map(outcome),
    [
      [CANCEL, 'connection_lost'],
      [REFUSED_STREAM, 'refused'],
    ],
    'the sent stream may have been seen: lost; the queued one never left: refused',
  );
});

void t.test('connection refused: streams refused, the socket error reported first', async (t) => {
  const [, port] = (await deadAddress()).split(':');
  const log: string[] = [];
  let error: Error | undefined;
  const connection = connectH2(
    '127.0.0.1',
    Number(port),
    {},
    {
      onError: (e) => {
        error = e;
        log.push('error');
      },
    },
  );
  t.teardown(() => connection.destroy());
  const handler = new LoggedHandler(log);
  handler.id = connection.request(REQUEST, true, handler).id;
  t.same(outcome(await handler.done), [REFUSED_STREAM, 'refused']);
  t.same(log, ['error', 'stream 1'], 'onError ran before the stream closed');
  t.match(error?.message, /ECONNREFUSED/);
  t.notOk(error instanceof H2ConnectionError);
});
