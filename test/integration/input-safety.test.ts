/**
 * Malformed requests get the right answer and the proxy keeps serving:
 * a gRPC length prefix that lies (with and without max_message_size), header
 * fields that HTTP/2 forbids (sent as raw frames: node:http2 will not send
 * them), and several grpc-timeout forms. Covered elsewhere: a missing or
 * wrong content-type on a gRPC route (proxy-wire.test.ts, HTTP 415), a
 * malformed grpc-timeout in general (deadlines.test.ts), oversized header
 * blocks (http2-abuse.test.ts). DATA after END_STREAM is sent as raw frames
 * too: node:http2 will not write on an ended stream.
 */
import net from 'node:net';
import t from 'tap';
import * as grpc from '@grpc/grpc-js';
import { proxiedEcho } from '../helpers/harness.js';
import { grpcMessage } from '../helpers/raw-backend.js';
import { grpcRequest, rawCall, rawSession } from '../helpers/raw-client.js';
import type { IncomingHttpHeaders } from 'node:http2';

const PATH = '/switchyard.test.Echo/Unary';

/** A 5-byte gRPC prefix announcing `length` bytes, followed by only `sent` of them. */
function lyingMessage(length: number, sent: number): Buffer {
  const out = Buffer.alloc(5 + sent, 0x61);
  out[0] = 0;
  out.writeUInt32BE(length, 1);
  return out;
}

void t.test('a length prefix that claims more than was sent, then END_STREAM', async (t) => {
  const { address, client, backends } = await proxiedEcho(t, ['b1']);
  const body = lyingMessage(100, 10);
  const direct = await rawCall(await rawSession(t, backends[0]?.address ?? ''), PATH, {}, body);
  const session = await rawSession(t, address);
  const reply = await rawCall(session, PATH, {}, body);
  // The proxy forwards the bytes as they are (without max_message_size it does
  // not parse messages); the backend judges them and its status comes back.
  t.not(direct.grpcStatus, '0', `the backend itself refuses it (${String(direct.grpcStatus)})`);
  t.equal(reply.grpcStatus, direct.grpcStatus, 'through the proxy: the same status');
  const ok = await client.unary({ message: 'after' });
  t.equal(ok.reply.message, 'after', 'the proxy keeps serving');
});

void t.test(
  'with max_message_size, a prefix over the limit is RESOURCE_EXHAUSTED at once',
  async (t) => {
    const { address, client, backends } = await proxiedEcho(t, ['b1'], {
      listener: { limits: { max_message_size: '1KiB' } },
    });
    const session = await rawSession(t, address);
    const stream = grpcRequest(session, PATH);
    stream.on('error', () => undefined);
    const headers = new Promise<IncomingHttpHeaders>((resolve) => {
      stream.on('response', (h: IncomingHttpHeaders) => resolve(h));
      stream.on('trailers', (h: IncomingHttpHeaders) => resolve(h));
    });
    stream.resume();
    // Claims 1 MiB, sends 5 bytes of it and never ends: the answer must not wait for the rest.
    stream.write(lyingMessage(1024 * 1024, 5));
    const reply = await headers;
    t.equal(reply['grpc-status'], String(grpc.status.RESOURCE_EXHAUSTED), 'RESOURCE_EXHAUSTED');
    t.match(String(reply['grpc-message']), /1048576 bytes exceeds max_message_size 1024/);
    stream.close();
    const ok = await client.unary({ message: 'after' });
    t.equal(ok.reply.message, 'after', 'the proxy keeps serving');
    t.equal(backends[0]?.calls, 1, 'only the good call completed at the backend');
  },
);

void t.test('grpc-timeout forms: malformed ones INTERNAL, the largest valid one OK', async (t) => {
  const { address } = await proxiedEcho(t, ['b1']);
  const session = await rawSession(t, address);
  for (const bad of ['', '123456789S', '-1S', '1.5S', '1s', '1 S', 'S', '1SS', '١S']) {
    const reply = await rawCall(session, PATH, { 'grpc-timeout': bad });
    t.equal(reply.grpcStatus, String(grpc.status.INTERNAL), `grpc-timeout ${JSON.stringify(bad)}`);
  }
  const reply = await rawCall(
    session,
    PATH,
    { 'grpc-timeout': '99999999H' },
    grpcMessage(Buffer.alloc(0)),
  );
  t.equal(reply.grpcStatus, '0', '99999999H (clamped to the longest timer) is served');
});

// ── raw HTTP/2 frames, for what node:http2 refuses to send ─────────────────

function frame(type: number, flags: number, streamId: number, payload: Buffer): Buffer {
  const header = Buffer.alloc(9);
  header.writeUIntBE(payload.length, 0, 3);
  header[3] = type;
  header[4] = flags;
  header.writeUInt32BE(streamId, 5);
  return Buffer.concat([header, payload]);
}

/** HPACK "literal header field without indexing, new name", no Huffman (RFC 7541 §6.2.2). */
function headerBlock(fields: readonly (readonly [string, string])[]): Buffer {
  const parts: Buffer[] = [];
  for (const [name, value] of fields) {
    const n = Buffer.from(name, 'latin1');
    const v = Buffer.from(value, 'latin1');
    if (n.length > 126 || v.length > 126) throw new Error('short fields only');
    parts.push(Buffer.from([0x00, n.length]), n, Buffer.from([v.length]), v);
  }
  return Buffer.concat(parts);
}

const PREFACE = Buffer.from('PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n', 'latin1');
const FRAME_HEADERS = 0x1;
const FRAME_RST_STREAM = 0x3;
const FRAME_GOAWAY = 0x7;
const FRAME_DATA = 0x0;
const END_STREAM = 0x1;
const END_HEADERS = 0x4;

interface RawOutcome {
  /** RST_STREAM error code on stream 1, if any. */
  readonly rst: number | undefined;
  /** GOAWAY error code, if any. */
  readonly goaway: number | undefined;
  /** A HEADERS frame came back on stream 1. */
  readonly headers: boolean;
}

/** Sends one request as raw frames on a new connection and reports how stream 1 ended. */
async function rawFrames(
  address: string,
  fields: readonly (readonly [string, string])[],
  after: readonly Buffer[] = [],
): Promise<RawOutcome> {
  const [host = '', port = ''] = address.split(':');
  const socket = net.connect(Number(port), host);
  socket.on('error', () => undefined);
  let buffer = Buffer.alloc(0);
  let rst: number | undefined;
  let goaway: number | undefined;
  let headers = false;
  const done = new Promise<void>((resolve) => {
    const timer = setTimeout(resolve, 5_000);
    socket.on('close', () => {
      clearTimeout(timer);
      resolve();
    });
    socket.on('data', (chunk: Buffer) => {
      buffer = Buffer.concat([buffer, chunk]);
      while (buffer.length >= 9) {
        const length = buffer.readUIntBE(0, 3);
        if (buffer.length < 9 + length) break;
        const type = buffer[3];
        const stream = buffer.readUInt32BE(5) & 0x7fffffff;
        const payload = buffer.subarray(9, 9 + length);
        buffer = buffer.subarray(9 + length);
        if (type === FRAME_RST_STREAM && stream === 1) rst = payload.readUInt32BE(0);
        if (type === FRAME_GOAWAY) goaway = payload.readUInt32BE(4);
        if (type === FRAME_HEADERS && stream === 1) headers = true;
        if (rst !== undefined || goaway !== undefined || headers) {
          clearTimeout(timer);
          resolve();
        }
      }
    });
  });
  socket.write(
    Buffer.concat([
      PREFACE,
      frame(0x4, 0, 0, Buffer.alloc(0)), // SETTINGS
      frame(FRAME_HEADERS, END_HEADERS, 1, headerBlock(fields)),
      frame(FRAME_DATA, END_STREAM, 1, grpcMessage(Buffer.alloc(0))),
      ...after,
    ]),
  );
  await done;
  socket.destroy();
  return { rst, goaway, headers };
}

const GOOD: readonly (readonly [string, string])[] = [
  [':method', 'POST'],
  [':scheme', 'http'],
  [':path', PATH],
  [':authority', 'localhost'],
  ['content-type', 'application/grpc'],
  ['te', 'trailers'],
];

void t.test(
  'header fields HTTP/2 forbids: refused or dropped, never forwarded; the proxy keeps serving',
  async (t) => {
    const { address, client, backends } = await proxiedEcho(t, ['b1']);
    const control = await rawFrames(address, GOOD);
    t.ok(control.headers, 'the raw client itself works: a valid request gets a response');
    // nghttp2 refuses these with RST_STREAM PROTOCOL_ERROR before the proxy sees a stream.
    const refused: Record<string, readonly (readonly [string, string])[]> = {
      'upper-case name': [...GOOD, ['X-Upper', 'v']],
      'connection-specific header': [...GOOD, ['connection', 'keep-alive']],
      'missing :path': GOOD.filter(([name]) => name !== ':path'),
      'pseudo-header after a regular one': [...GOOD, [':status', '200']],
    };
    const callsBefore = backends[0]?.calls ?? 0;
    for (const [name, fields] of Object.entries(refused)) {
      const outcome = await rawFrames(address, fields);
      t.equal(outcome.rst, 1, `${name}: RST_STREAM PROTOCOL_ERROR`);
    }
    t.equal(backends[0]?.calls, callsBefore, 'no refused request reached the backend');
    // Node drops a field whose value holds CR, LF or NUL, or whose name holds a
    // space (RFC 9113 §8.2.1 lets it treat them as malformed): the request goes
    // on without it, so the field never reaches the backend.
    const dropped: Record<string, readonly [string, string]> = {
      'CR LF in a value': ['x-bad-crlf', 'a\r\nb'],
      'NUL in a value': ['x-bad-nul', 'a\u0000b'],
      'space in a name': ['x bad', 'v'],
    };
    for (const [name, field] of Object.entries(dropped)) {
      const before = backends[0]?.calls ?? 0;
      const outcome = await rawFrames(address, [...GOOD, field]);
      if (backends[0]?.calls === before) {
        t.ok(outcome.rst !== undefined || outcome.goaway !== undefined, `${name}: refused`);
      } else {
        t.same(backends[0]?.lastMetadata?.get(field[0]), [], `${name}: dropped before the backend`);
      }
    }
    const ok = await client.unary({ message: 'after' });
    t.equal(ok.reply.message, 'after', 'the proxy keeps serving');
  },
);

void t.test('DATA after END_STREAM: STREAM_CLOSED, the proxy keeps serving', async (t) => {
  // After this connection error node leaves the server side of the
  // connection open, unread, even once the client has closed it (measured on
  // Node 20; docs/security.md): the proxy's close at teardown waits out its
  // 10 s grace period before destroying it, hence this test's duration.
  const { address, client } = await proxiedEcho(t, ['b1']);
  // Raw frames: node:http2 will not write on a stream it has ended.
  const late = frame(FRAME_DATA, END_STREAM, 1, grpcMessage(Buffer.from('late')));
  const outcome = await rawFrames(address, GOOD, [late]);
  const STREAM_CLOSED = 0x5;
  t.ok(
    outcome.rst === STREAM_CLOSED || outcome.goaway === STREAM_CLOSED,
    `answered STREAM_CLOSED (RST_STREAM ${String(outcome.rst)}, GOAWAY ${String(outcome.goaway)})`,
  );
  const ok = await client.unary({ message: 'after' });
  t.equal(ok.reply.message, 'after', 'the proxy keeps serving');
});
