/**
 * Interop with a real HPACK peer, node:http2 (nghttp2):
 * - node as client: a bare `net` server reads what it sends, the HEADERS
 *   blocks of two identical requests (the second refers to the dynamic
 *   table) decode to the headers the client asked for;
 * - node as server: a bare `net` client sends blocks from our encoder
 *   (the second after a table size update), node reports the same headers
 *   (and our never-indexed names as sensitive), and node's responses
 *   decode with our decoder.
 */
import http2 from 'node:http2';
import net from 'node:net';
import { once } from 'node:events';
import t from 'tap';
import { HpackDecoder } from '../../../src/h2/hpack/hpack-decoder.js';
import { HpackEncoder } from '../../../src/h2/hpack/hpack-encoder.js';

const PREFACE = Buffer.from('PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n', 'latin1');
const TYPE_HEADERS = 0x1;
const TYPE_SETTINGS = 0x4;
const TYPE_CONTINUATION = 0x9;
const FLAG_ACK = 0x1;
const FLAG_END_STREAM = 0x1;
const FLAG_END_HEADERS = 0x4;
const FLAG_PADDED = 0x8;
const FLAG_PRIORITY = 0x20;

function frame(type: number, flags: number, streamId: number, payload: Buffer): Buffer {
  const header = Buffer.alloc(9);
  header.writeUIntBE(payload.length, 0, 3);
  header[3] = type;
  header[4] = flags;
  header.writeUInt32BE(streamId, 5);
  return Buffer.concat([header, payload]);
}

const EMPTY_SETTINGS = frame(TYPE_SETTINGS, 0, 0, Buffer.alloc(0));
const SETTINGS_ACK = frame(TYPE_SETTINGS, FLAG_ACK, 0, Buffer.alloc(0));

/**
 * Minimal frame reader: collects complete header blocks (HEADERS +
 * CONTINUATIONs, padding and priority removed) and acknowledges SETTINGS.
 */
class HeaderBlockCollector {
  readonly blocks: Buffer[] = [];
  private pending = Buffer.alloc(0);
  private prefaceLeft: number;
  private partialBlock: Buffer[] | undefined;

  constructor(
    private readonly socket: net.Socket,
    expectPreface: boolean,
    private readonly onBlock: () => void,
  ) {
    this.prefaceLeft = expectPreface ? PREFACE.length : 0;
    socket.on('data', (chunk: Buffer) => {
      this.read(chunk);
    });
  }

  private read(chunk: Buffer): void {
    this.pending = Buffer.concat([this.pending, chunk]);
    if (this.prefaceLeft > 0) {
      const skipped = Math.min(this.prefaceLeft, this.pending.length);
      this.pending = this.pending.subarray(skipped);
      this.prefaceLeft -= skipped;
    }
    while (this.pending.length >= 9) {
      const length = this.pending.readUIntBE(0, 3);
      if (this.pending.length < 9 + length) return;
      const type = this.pending[3] ?? 0;
      const flags = this.pending[4] ?? 0;
      const payload = this.pending.subarray(9, 9 + length);
      this.pending = this.pending.subarray(9 + length);
      this.onFrame(type, flags, payload);
    }
  }

  private onFrame(type: number, flags: number, payload: Buffer): void {
    if (type === TYPE_SETTINGS && (flags & FLAG_ACK) === 0) {
      this.socket.write(SETTINGS_ACK);
      return;
    }
    if (type === TYPE_HEADERS) {
      let start = 0;
      let end = payload.length;
      if ((flags & FLAG_PADDED) !== 0) {
        end -= payload[0] ?? 0;
        start = 1;
      }
      if ((flags & FLAG_PRIORITY) !== 0) start += 5;
      this.partialBlock = [payload.subarray(start, end)];
    } else if (type === TYPE_CONTINUATION) {
      this.partialBlock?.push(payload);
    } else {
      return;
    }
    if ((flags & FLAG_END_HEADERS) !== 0 && this.partialBlock !== undefined) {
      this.blocks.push(Buffer.concat(this.partialBlock));
      this.partialBlock = undefined;
      this.onBlock();
    }
  }
}

/** The value of `name` in a flat field list, all values joined by ", ". */
function valueOf(fields: readonly string[], name: string): string | undefined {
  const values: string[] = [];
  for (let i = 0; i + 1 < fields.length; i += 2) {
    if (fields[i] === name) values.push(fields[i + 1] ?? '');
  }
  return values.length === 0 ? undefined : values.join(', ');
}

const REQUEST_HEADERS: Record<string, string> = {
  ':method': 'POST',
  ':path': '/pkg.Service/Method',
  'content-type': 'application/grpc',
  te: 'trailers',
  'user-agent': 'grpc-node-js/1.14.0',
  'grpc-timeout': '999m',
  'grpc-accept-encoding': 'identity,deflate,gzip',
  authorization: 'Bearer token-1234',
  'x-custom': 'caf\u00e9 \u00ff',
};

void t.test('we decode what node:http2 sends as a client', async (t) => {
  const server = net.createServer();
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const address = server.address();
  if (address === null || typeof address === 'string') throw new Error('no port');

  const twoBlocks = new Promise<Buffer[]>((resolve) => {
    server.on('connection', (socket) => {
      socket.on('error', () => undefined);
      socket.write(EMPTY_SETTINGS);
      const collector = new HeaderBlockCollector(socket, true, () => {
        if (collector.blocks.length === 2) resolve(collector.blocks);
      });
    });
  });

  const client = http2.connect(`http://127.0.0.1:${address.port}`);
  client.on('error', () => undefined);
  for (let i = 0; i < 2; i++) client.request(REQUEST_HEADERS).on('error', () => undefined);
  const [first, second] = await twoBlocks;
  client.destroy();
  server.close();
  if (first === undefined || second === undefined) throw new Error('missing blocks');

  const decoder = new HpackDecoder();
  const decodedFirst = decoder.decode(first);
  const decodedSecond = decoder.decode(second);
  t.same(decodedSecond, decodedFirst, 'both requests decode the same');
  t.ok(
    second.length < first.length,
    `second block (${second.length}) uses the table (${first.length})`,
  );
  for (const [name, value] of Object.entries(REQUEST_HEADERS)) {
    t.equal(valueOf(decodedFirst, name), Buffer.from(value, 'latin1').toString('latin1'), name);
  }
  t.equal(valueOf(decodedFirst, ':authority'), `127.0.0.1:${address.port}`);
  t.equal(valueOf(decodedFirst, ':scheme'), 'http');
  t.ok(decoder.tableSize > 0);
});

void t.test('node:http2 decodes what we send, and we decode its responses', async (t) => {
  const received: http2.IncomingHttpHeaders[] = [];
  const server = http2.createServer();
  server.on('stream', (stream, headers) => {
    received.push(headers);
    stream.respond({ ':status': 200, 'content-type': 'application/grpc', 'x-reply': 'ok' });
    stream.end();
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const address = server.address();
  if (address === null || typeof address === 'string') throw new Error('no port');

  const socket = net.connect(address.port, '127.0.0.1');
  socket.on('error', () => undefined);
  await once(socket, 'connect');
  const encoder = new HpackEncoder();
  const fields = [
    ':method',
    'POST',
    ':scheme',
    'http',
    ':path',
    '/pkg.Service/Method',
    ':authority',
    'backend:50051',
    ...Object.entries(REQUEST_HEADERS)
      .filter(([name]) => !name.startsWith(':'))
      .flat(),
  ];
  const responses = new Promise<Buffer[]>((resolve) => {
    const collector = new HeaderBlockCollector(socket, false, () => {
      if (collector.blocks.length === 2) resolve(collector.blocks);
    });
  });
  socket.write(Buffer.concat([PREFACE, EMPTY_SETTINGS]));
  socket.write(frame(TYPE_HEADERS, FLAG_END_HEADERS | FLAG_END_STREAM, 1, encoder.encode(fields)));
  encoder.setMaxTableSize(1024);
  const second = encoder.encode(fields);
  t.equal((second[0] ?? 0) & 0xe0, 0x20, 'second block opens with a table size update');
  socket.write(frame(TYPE_HEADERS, FLAG_END_HEADERS | FLAG_END_STREAM, 3, second));

  const [response1, response2] = await responses;
  socket.destroy();
  server.close();

  t.equal(received.length, 2);
  for (const headers of received) {
    for (let i = 0; i + 1 < fields.length; i += 2) {
      const name = fields[i] ?? '';
      t.equal(headers[name], fields[i + 1], `node got ${name}`);
    }
    const sensitive: unknown = Reflect.get(headers, http2.sensitiveHeaders);
    t.ok(
      Array.isArray(sensitive) && sensitive.includes('authorization'),
      'authorization arrived never-indexed',
    );
  }

  const decoder = new HpackDecoder();
  for (const block of [response1, response2]) {
    if (block === undefined) throw new Error('missing response');
    const response = decoder.decode(block);
    t.equal(valueOf(response, ':status'), '200');
    t.equal(valueOf(response, 'content-type'), 'application/grpc');
    t.equal(valueOf(response, 'x-reply'), 'ok');
  }
});
