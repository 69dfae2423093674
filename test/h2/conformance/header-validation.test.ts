/**
 * RFC 9113 §8.2 (field validity), §8.2.2 (connection-specific fields), §8.3
 * (pseudo-headers), §8.1.1 (malformed messages, content-length): each is a
 * stream error PROTOCOL_ERROR and the connection keeps serving.
 *
 * nodejs target (node:http2 / nghttp2, Node 20) differs on 5 of 27: a field
 * name with a space, an empty field name, a value with CR LF, a value with
 * NUL and a value with leading whitespace are served as if valid (no
 * RST_STREAM). Uppercase names, connection-specific fields, te, pseudo-header
 * rules and content-length mismatches match.
 */
import t from 'tap';
import { headerBlock, type Fields } from './hpack.js';
import { ErrorCode, REQUEST } from './raw-peer.js';
import { connect } from './target.js';

const without = (name: string): Fields => REQUEST.filter(([n]) => n !== name);
const plus = (...fields: Fields): Fields => [...REQUEST, ...fields];

const MALFORMED: readonly (readonly [string, Fields])[] = [
  ['§8.2 an uppercase field name', plus(['X-Upper', 'v'])],
  ['§8.2.1 a field name with a space', plus(['x bad', 'v'])],
  ['§8.2.1 an empty field name', plus(['', 'v'])],
  ['§8.2.1 a field value with CR LF', plus(['x-split', 'a\r\nx-injected: b'])],
  ['§8.2.1 a field value with NUL', plus(['x-nul', 'a\u0000b'])],
  ['§8.2.1 a field value with leading whitespace', plus(['x-ws', ' v'])],
  ['§8.2.2 connection', plus(['connection', 'keep-alive'])],
  ['§8.2.2 keep-alive', plus(['keep-alive', 'timeout=5'])],
  ['§8.2.2 transfer-encoding', plus(['transfer-encoding', 'chunked'])],
  ['§8.2.2 upgrade', plus(['upgrade', 'h2c'])],
  ['§8.2.2 proxy-connection', plus(['proxy-connection', 'keep-alive'])],
  ['§8.2.2 te other than "trailers"', [...without('te'), ['te', 'gzip']]],
  [
    '§8.3 a pseudo-header after a regular field',
    [...REQUEST.slice(1), REQUEST[0] ?? [':method', 'POST']],
  ],
  ['§8.3 an unknown pseudo-header', plus([':foo', 'bar'])],
  ['§8.3.2 :status in a request', [[':status', '200'], ...REQUEST]],
  ['§8.3.1 a duplicate :path', [[':path', '/twice'], ...REQUEST]],
  ['§8.3.1 a duplicate :method', [[':method', 'GET'], ...REQUEST]],
  ['§8.3.1 missing :method', without(':method')],
  ['§8.3.1 missing :scheme', without(':scheme')],
  ['§8.3.1 missing :path', without(':path')],
  ['§8.3.1 an empty :path', [...without(':path'), [':path', '']]],
  ...['', '-4', '+4', '4.0', '1e3', '0x4', ' 4', '4 ', '4a', '1234567890123456'].map(
    (value) => [`§8.1.1 content-length "${value}"`, plus(['content-length', value])] as const,
  ),
  [
    '§8.1.1 two different content-length values',
    plus(['content-length', '4'], ['content-length', '5']),
  ],
];

for (const [name, fields] of MALFORMED) {
  void t.test(`${name}: stream error PROTOCOL_ERROR`, async (t) => {
    const peer = await connect(t);
    // A request with a body to come, so the stream is open when judged.
    peer.request(1, { block: headerBlock(fields), endStream: false });
    peer.data(1, Buffer.from('body'), { endStream: true });
    await peer.expectStreamError(1, ErrorCode.PROTOCOL_ERROR);
  });
}

void t.test('§8.1 a pseudo-header in trailers: stream error PROTOCOL_ERROR', async (t) => {
  const peer = await connect(t);
  peer.request(1, { body: Buffer.from('body'), endStream: false });
  peer.headers(1, headerBlock([[':path', '/late']]), { endStream: true });
  await peer.expectStreamError(1, ErrorCode.PROTOCOL_ERROR);
});

void t.test('§8.1 trailers without END_STREAM: stream error PROTOCOL_ERROR', async (t) => {
  const peer = await connect(t);
  peer.request(1, { body: Buffer.from('body'), endStream: false });
  peer.headers(1, headerBlock([['x-trailer', '1']]), { endStream: false });
  await peer.expectStreamError(1, ErrorCode.PROTOCOL_ERROR);
});

void t.test(
  '§8.1.1 content-length larger than the DATA received: stream error PROTOCOL_ERROR',
  async (t) => {
    const peer = await connect(t);
    peer.request(1, { fields: plus(['content-length', '10']), body: Buffer.from('12345') });
    await peer.expectStreamError(1, ErrorCode.PROTOCOL_ERROR);
  },
);

void t.test(
  '§8.1.1 content-length smaller than the DATA received: stream error PROTOCOL_ERROR',
  async (t) => {
    const peer = await connect(t);
    peer.request(1, { fields: plus(['content-length', '3']), body: Buffer.from('12345') });
    await peer.expectStreamError(1, ErrorCode.PROTOCOL_ERROR);
  },
);

void t.test('§8.1.1 content-length matching the DATA is accepted', async (t) => {
  const peer = await connect(t);
  peer.request(1, { fields: plus(['content-length', '5']), body: Buffer.from('12345') });
  const response = await peer.readResponse(1);
  t.equal(response.body.toString(), '12345', 'served');
});

void t.test('§8.2.2 te: trailers and ordinary fields are accepted', async (t) => {
  const peer = await connect(t);
  peer.request(1, {
    fields: plus(['x-ok', 'value with inner  spaces'], ['user-agent', 'conformance/1']),
    body: Buffer.from('fine'),
  });
  const response = await peer.readResponse(1);
  t.equal(response.body.toString(), 'fine', 'served');
});
