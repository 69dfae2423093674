/**
 * RFC 7541 (HPACK) decoding errors, RFC 9113 §4.3: a header block that
 * cannot be decoded is a connection error COMPRESSION_ERROR.
 *
 * nodejs target (node:http2 / nghttp2, Node 20) differs on 12 of 15: every
 * COMPRESSION_ERROR case gets the right GOAWAY from nghttp2, but node leaves
 * the TCP connection open (§5.4.1: MUST close).
 */
import t from 'tap';
import {
  headerBlock,
  hpackInt,
  hpackString,
  indexed,
  literal,
  literalIndexed,
  rawHuffmanString,
  sizeUpdate,
} from './hpack.js';
import { ErrorCode, REQUEST, Setting } from './raw-peer.js';
import { connect } from './target.js';

const REQUEST_BLOCK = headerBlock(REQUEST);

for (const [name, block] of [
  [
    '§2.3.3 an index past the dynamic table (70, table empty)',
    Buffer.concat([REQUEST_BLOCK, indexed(70)]),
  ],
  ['§6.1 indexed field with index 0', Buffer.concat([REQUEST_BLOCK, indexed(0)])],
  [
    '§6.2 literal with an indexed name past the tables',
    Buffer.concat([REQUEST_BLOCK, Buffer.from([0x0f, 0x70]), hpackString('v')]),
  ],
  [
    '§4.2 a dynamic table size update above SETTINGS_HEADER_TABLE_SIZE',
    Buffer.concat([sizeUpdate(4097), REQUEST_BLOCK]),
  ],
  [
    '§4.2 a dynamic table size update after a field',
    Buffer.concat([REQUEST_BLOCK, sizeUpdate(100)]),
  ],
  [
    '§5.2 Huffman string containing EOS',
    Buffer.concat([
      REQUEST_BLOCK,
      Buffer.from([0]),
      hpackString('x-eos'),
      rawHuffmanString(Buffer.from([0xff, 0xff, 0xff, 0xff])),
    ]),
  ],
  [
    '§5.2 Huffman padding longer than 7 bits',
    Buffer.concat([
      REQUEST_BLOCK,
      Buffer.from([0]),
      hpackString('x-pad'),
      rawHuffmanString(Buffer.from([0x1f, 0xff])),
    ]),
  ],
  [
    '§5.2 Huffman padding not the EOS prefix (zeros)',
    Buffer.concat([
      REQUEST_BLOCK,
      Buffer.from([0]),
      hpackString('x-pad'),
      rawHuffmanString(Buffer.from([0x18])),
    ]),
  ],
  [
    '§5.1 an integer that overflows (index)',
    Buffer.concat([
      REQUEST_BLOCK,
      Buffer.from([0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x7f]),
    ]),
  ],
  [
    '§5.2 a string longer than the block',
    Buffer.concat([REQUEST_BLOCK, Buffer.from([0]), hpackInt(200, 7, 0), Buffer.from('short')]),
  ],
  [
    '§5.1 an integer cut off at the end of the block',
    Buffer.concat([REQUEST_BLOCK, Buffer.from([0xff, 0x80])]),
  ],
] as const) {
  void t.test(`RFC 7541 ${name}: COMPRESSION_ERROR`, async (t) => {
    const peer = await connect(t);
    peer.request(1, { block, endStream: true });
    await peer.expectGoaway(ErrorCode.COMPRESSION_ERROR);
  });
}

void t.test('RFC 7541 Huffman-coded names and values are decoded', async (t) => {
  const peer = await connect(t);
  // 0x1f is 'a' (00011) + 111 padding: valid.
  const block = Buffer.concat([
    ...REQUEST.map(([name, value]) => literal(name, value, true)),
    Buffer.from([0]),
    hpackString('x-a'),
    rawHuffmanString(Buffer.from([0x1f])),
  ]);
  peer.request(1, { block, body: Buffer.from('huffman') });
  const response = await peer.readResponse(1);
  t.equal(response.body.toString(), 'huffman', 'served');
});

void t.test('RFC 7541 §2.3.2 dynamic table entries carry over between header blocks', async (t) => {
  const peer = await connect(t);
  const first = Buffer.concat([...REQUEST.map(([name, value]) => literalIndexed(name, value))]);
  peer.request(1, { block: first, body: Buffer.from('one') });
  t.equal((await peer.readResponse(1)).body.toString(), 'one', 'first request');
  // REQUEST's 6 fields now sit at 62..67, newest first.
  const second = Buffer.concat(REQUEST.map((_, i) => indexed(62 + REQUEST.length - 1 - i)));
  peer.request(3, { block: second, body: Buffer.from('two') });
  t.equal(
    (await peer.readResponse(3)).body.toString(),
    'two',
    'second request, all fields indexed',
  );
});

void t.test(
  'RFC 7541 §4.2 a size update to 0 then within SETTINGS_HEADER_TABLE_SIZE is accepted',
  async (t) => {
    const peer = await connect(t);
    const size = peer.serverSettings.get(Setting.HEADER_TABLE_SIZE) ?? 4096;
    peer.request(1, {
      block: Buffer.concat([sizeUpdate(0), sizeUpdate(size), REQUEST_BLOCK]),
      body: Buffer.from('ok'),
    });
    t.equal((await peer.readResponse(1)).body.toString(), 'ok', 'served');
  },
);

void t.test(
  'RFC 7541 §4.3 an entry evicted by a size update is gone: COMPRESSION_ERROR',
  async (t) => {
    const peer = await connect(t);
    peer.request(1, {
      block: Buffer.concat([REQUEST_BLOCK, literalIndexed('x-kept', 'v')]),
      body: Buffer.from('ok'),
    });
    await peer.readResponse(1);
    // A size update to 0 empties the table: index 62 no longer exists.
    peer.request(3, {
      block: Buffer.concat([sizeUpdate(0), sizeUpdate(4096), REQUEST_BLOCK, indexed(62)]),
    });
    await peer.expectGoaway(ErrorCode.COMPRESSION_ERROR);
  },
);
