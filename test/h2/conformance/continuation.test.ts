/**
 * RFC 9113 §6.10 CONTINUATION and §4.3 field blocks as one unit.
 *
 * nodejs target (node:http2 / nghttp2, Node 20) differs on 8 of 10: every
 * PROTOCOL_ERROR case gets the right GOAWAY from nghttp2, but node leaves the
 * TCP connection open (§5.4.1: MUST close).
 */
import t from 'tap';
import { headerBlock } from './hpack.js';
import { ErrorCode, FrameType, REQUEST } from './raw-peer.js';
import { connect } from './target.js';

const BLOCK = headerBlock(REQUEST);
const FIRST = BLOCK.subarray(0, 20);
const REST = BLOCK.subarray(20);

void t.test('§6.10 a header block split over HEADERS and CONTINUATIONs is accepted', async (t) => {
  const peer = await connect(t);
  peer.headers(1, BLOCK.subarray(0, 10), { endHeaders: false });
  peer.continuation(1, BLOCK.subarray(10, 30), false);
  peer.continuation(1, BLOCK.subarray(30), true);
  peer.data(1, Buffer.from('continued'), { endStream: true });
  const response = await peer.readResponse(1);
  t.equal(response.body.toString(), 'continued', 'request served');
});

void t.test('§6.10 DATA in the middle of a header block: PROTOCOL_ERROR', async (t) => {
  const peer = await connect(t);
  peer.headers(1, FIRST, { endHeaders: false });
  peer.data(1, Buffer.from('x'));
  await peer.expectGoaway(ErrorCode.PROTOCOL_ERROR);
});

void t.test('§6.10 PING in the middle of a header block: PROTOCOL_ERROR', async (t) => {
  const peer = await connect(t);
  peer.headers(1, FIRST, { endHeaders: false });
  peer.ping(Buffer.alloc(8));
  await peer.expectGoaway(ErrorCode.PROTOCOL_ERROR);
});

void t.test('§6.10 HEADERS in the middle of a header block: PROTOCOL_ERROR', async (t) => {
  const peer = await connect(t);
  peer.headers(1, FIRST, { endHeaders: false });
  peer.headers(3, BLOCK);
  await peer.expectGoaway(ErrorCode.PROTOCOL_ERROR);
});

void t.test(
  '§5.5/§6.10 an unknown frame type in the middle of a header block: PROTOCOL_ERROR',
  async (t) => {
    const peer = await connect(t);
    peer.headers(1, FIRST, { endHeaders: false });
    peer.frame(0xfa, 0, 1, Buffer.from('extension'));
    await peer.expectGoaway(ErrorCode.PROTOCOL_ERROR);
  },
);

void t.test('§6.10 CONTINUATION on a different stream: PROTOCOL_ERROR', async (t) => {
  const peer = await connect(t);
  peer.headers(1, FIRST, { endHeaders: false });
  peer.continuation(3, REST, true);
  await peer.expectGoaway(ErrorCode.PROTOCOL_ERROR);
});

void t.test('§6.10 CONTINUATION without a preceding HEADERS: PROTOCOL_ERROR', async (t) => {
  const peer = await connect(t);
  peer.continuation(1, BLOCK, true);
  await peer.expectGoaway(ErrorCode.PROTOCOL_ERROR);
});

void t.test(
  '§6.10 CONTINUATION after a HEADERS that had END_HEADERS: PROTOCOL_ERROR',
  async (t) => {
    const peer = await connect(t);
    peer.headers(1, BLOCK);
    peer.continuation(1, headerBlock([['x-late', '1']]), true);
    await peer.expectGoaway(ErrorCode.PROTOCOL_ERROR);
  },
);

void t.test('§6.10 CONTINUATION after the stream ended: PROTOCOL_ERROR', async (t) => {
  const peer = await connect(t);
  peer.request(1, { body: Buffer.from('done') });
  await peer.readResponse(1);
  peer.continuation(1, headerBlock([['x-late', '1']]), true);
  await peer.expectGoaway(ErrorCode.PROTOCOL_ERROR);
});

void t.test('§6.2 trailers split over HEADERS and CONTINUATION are accepted', async (t) => {
  const peer = await connect(t);
  peer.request(1, { body: Buffer.from('with trailers'), endStream: false });
  const trailers = headerBlock([
    ['x-trailer-one', '1'],
    ['x-trailer-two', '2'],
  ]);
  peer.headers(1, trailers.subarray(0, 5), { endStream: true, endHeaders: false });
  peer.continuation(1, trailers.subarray(5), true);
  const response = await peer.readResponse(1);
  t.equal(response.body.toString(), 'with trailers', 'request served');
  t.notOk(
    peer.received.some((f) => f.type === FrameType.RST_STREAM),
    'no RST_STREAM',
  );
});
