/**
 * RFC 9113 §5.1 stream states, §5.1.1 stream identifiers, §5.1.2 stream
 * concurrency.
 *
 * nodejs target (node:http2 / nghttp2, Node 20) differs on 11 of 14:
 *   - DATA on an idle stream: GOAWAY PROTOCOL_ERROR, connection left open;
 *   - WINDOW_UPDATE/RST_STREAM on an idle stream, an even stream id:
 *     GOAWAY INTERNAL_ERROR;
 *   - half-closed (remote): DATA → connection error GOAWAY STREAM_CLOSED
 *     (RFC 7540 reading), HEADERS → GOAWAY INTERNAL_ERROR;
 *   - DATA after the client's RST_STREAM, DATA on a fully closed stream,
 *     HEADERS reusing a closed id, a lower stream id: silently ignored;
 *   - past MAX_CONCURRENT_STREAMS: GOAWAY INTERNAL_ERROR, not RST_STREAM.
 */
import t, { type Test } from 'tap';
import { headerBlock } from './hpack.js';
import { ErrorCode, FrameType, Setting, type RawPeer } from './raw-peer.js';
import { connect } from './target.js';

/**
 * Stream 1 in half-closed (remote) on the server: the request ended, and the
 * response cannot finish because our receive window is 0 (the echoed body
 * waits for credit), so the server holds the stream open.
 */
async function halfClosedRemote(t: Test): Promise<RawPeer> {
  const peer = await connect(t, { settings: [[Setting.INITIAL_WINDOW_SIZE, 0]] });
  peer.request(1, { body: Buffer.from('held by flow control') });
  await peer.nextFrame(
    'response HEADERS on stream 1',
    (f) => f.type === FrameType.HEADERS && f.streamId === 1,
    {
      failOn: (f) => f.type === FrameType.GOAWAY || f.type === FrameType.RST_STREAM,
      consume: false,
    },
  );
  return peer;
}

void t.test('§5.1 idle: DATA on an idle stream is a connection error PROTOCOL_ERROR', async (t) => {
  const peer = await connect(t);
  peer.data(1, Buffer.from('no HEADERS before me'), { endStream: true });
  // §6.1 would also allow a stream error STREAM_CLOSED; §5.1 (idle) prescribes PROTOCOL_ERROR.
  await peer.expectGoaway(ErrorCode.PROTOCOL_ERROR);
});

void t.test(
  '§5.1 idle: WINDOW_UPDATE on an idle stream is a connection error PROTOCOL_ERROR',
  async (t) => {
    const peer = await connect(t);
    peer.windowUpdate(1, 100);
    await peer.expectGoaway(ErrorCode.PROTOCOL_ERROR);
  },
);

void t.test(
  '§5.1 idle: RST_STREAM on an idle stream is a connection error PROTOCOL_ERROR',
  async (t) => {
    const peer = await connect(t);
    peer.rstStream(1, ErrorCode.CANCEL);
    await peer.expectGoaway(ErrorCode.PROTOCOL_ERROR);
  },
);

void t.test('§5.1 idle: PRIORITY on an idle stream is allowed', async (t) => {
  const peer = await connect(t);
  peer.priority(1, 0, 200);
  peer.priority(7, 1, 16);
  await peer.expectNoErrorSoFar();
  await peer.expectWorking();
});

void t.test('§5.1 half-closed (remote): DATA is a stream error STREAM_CLOSED', async (t) => {
  const peer = await halfClosedRemote(t);
  peer.data(1, Buffer.from('after END_STREAM'));
  await peer.expectStreamError(1, ErrorCode.STREAM_CLOSED);
});

void t.test('§5.1 half-closed (remote): HEADERS is a stream error STREAM_CLOSED', async (t) => {
  const peer = await halfClosedRemote(t);
  peer.headers(1, headerBlock([['x-trailer', 'late']]), { endStream: true });
  await peer.expectStreamError(1, ErrorCode.STREAM_CLOSED);
});

void t.test(
  '§5.1 half-closed (remote): WINDOW_UPDATE, PRIORITY and RST_STREAM are allowed',
  async (t) => {
    const peer = await halfClosedRemote(t);
    peer.priority(1, 0, 32);
    peer.windowUpdate(1, 1_000);
    const response = await peer.readResponse(1);
    t.equal(response.body.toString(), 'held by flow control', 'WINDOW_UPDATE released the echo');
    await peer.expectNoErrorSoFar();
    await peer.expectWorking();
  },
);

void t.test('§5.1 closed: DATA after the client reset the stream is STREAM_CLOSED', async (t) => {
  const peer = await connect(t);
  peer.request(1, { endStream: false });
  peer.rstStream(1, ErrorCode.CANCEL);
  peer.data(1, Buffer.from('after my own RST_STREAM'));
  // RFC 7540 §5.1 / h2spec: stream error STREAM_CLOSED; RFC 9113 §5.1 lets a
  // closed stream's frames be a connection error STREAM_CLOSED too.
  await peer.expectStreamOrConnectionError(1, ErrorCode.STREAM_CLOSED);
});

void t.test(
  '§5.1/§6.1 closed: DATA on a stream closed by END_STREAM both ways is STREAM_CLOSED',
  async (t) => {
    const peer = await connect(t);
    peer.request(1, { body: Buffer.from('one') });
    await peer.readResponse(1);
    peer.data(1, Buffer.from('too late'));
    await peer.expectStreamOrConnectionError(1, ErrorCode.STREAM_CLOSED);
  },
);

void t.test('§5.1.1 HEADERS reusing a closed stream id: connection error', async (t) => {
  const peer = await connect(t);
  peer.request(1, { body: Buffer.from('one') });
  await peer.readResponse(1);
  peer.request(1, { body: Buffer.from('again') });
  // §5.1.1: not greater than every id opened so far → PROTOCOL_ERROR
  // (h2spec also accepts STREAM_CLOSED, the §5.1 closed-state reading).
  await peer.expectGoaway([ErrorCode.PROTOCOL_ERROR, ErrorCode.STREAM_CLOSED]);
});

void t.test('§5.1.1 an even stream id from the client: PROTOCOL_ERROR', async (t) => {
  const peer = await connect(t);
  peer.request(2);
  await peer.expectGoaway(ErrorCode.PROTOCOL_ERROR);
});

void t.test('§5.1.1 a stream id lower than one already opened: PROTOCOL_ERROR', async (t) => {
  const peer = await connect(t);
  peer.request(5, { body: Buffer.from('five') });
  await peer.readResponse(5);
  peer.request(3);
  await peer.expectGoaway(ErrorCode.PROTOCOL_ERROR);
});

void t.test('§5.1.2 a stream past SETTINGS_MAX_CONCURRENT_STREAMS is refused', async (t) => {
  const peer = await connect(t);
  const max = peer.serverSettings.get(Setting.MAX_CONCURRENT_STREAMS);
  if (max === undefined || max > 1000) {
    t.fail(`the target must advertise a small SETTINGS_MAX_CONCURRENT_STREAMS (got ${max})`);
    return;
  }
  peer.socket.cork();
  for (let i = 0; i < max; i++) peer.request(1 + 2 * i, { endStream: false });
  peer.socket.uncork();
  const over = 1 + 2 * max;
  peer.request(over, { endStream: false });
  // §5.1.2: stream error PROTOCOL_ERROR or REFUSED_STREAM.
  await peer.expectRstStream(over, [ErrorCode.REFUSED_STREAM, ErrorCode.PROTOCOL_ERROR]);
  // Free a slot: end stream 1 and read its whole answer; then a new stream works.
  peer.data(1, Buffer.from('end'), { endStream: true });
  const response = await peer.readResponse(1);
  t.equal(response.body.toString(), 'end', 'stream 1 still served');
  await peer.expectWorking();
});

void t.test('§5.1.2 streams up to SETTINGS_MAX_CONCURRENT_STREAMS are all served', async (t) => {
  const peer = await connect(t);
  const max = Math.min(peer.serverSettings.get(Setting.MAX_CONCURRENT_STREAMS) ?? 100, 1000);
  peer.socket.cork();
  for (let i = 0; i < max; i++) peer.request(1 + 2 * i, { endStream: false });
  for (let i = 0; i < max; i++) peer.data(1 + 2 * i, Buffer.from(`s${i}`), { endStream: true });
  peer.socket.uncork();
  let served = 0;
  for (let i = 0; i < max; i++) {
    const response = await peer.readResponse(1 + 2 * i);
    if (response.body.toString() === `s${i}`) served++;
  }
  t.equal(served, max, `${max} concurrent streams echoed`);
  t.notOk(
    peer.received.some((f) => f.type === FrameType.RST_STREAM),
    'no stream reset',
  );
});
