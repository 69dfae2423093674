/**
 * RFC 9113 §5.3.1/§5.4/§5.5/§6: frame definitions — stream 0 vs. other streams,
 * padding, unknown frames and settings, SETTINGS values, PING.
 *
 * nodejs target (node:http2 / nghttp2, Node 20) differs on 17 of 23:
 *   - DATA/HEADERS/PRIORITY on stream 0, SETTINGS/PING on a non-zero stream,
 *     ENABLE_PUSH=2, MAX_FRAME_SIZE out of range: GOAWAY INTERNAL_ERROR (not
 *     PROTOCOL_ERROR); INITIAL_WINDOW_SIZE > 2^31-1: GOAWAY INTERNAL_ERROR
 *     (not FLOW_CONTROL_ERROR);
 *   - RST_STREAM/CONTINUATION on stream 0, GOAWAY on a non-zero stream, bad
 *     padding on DATA and HEADERS: right GOAWAY code, connection left open;
 *   - an unsolicited PING ACK: node tears the session down (GOAWAY
 *     INTERNAL_ERROR) instead of ignoring it.
 *   - a stream depending on itself (§5.3.1): connection error instead of a
 *     stream error (HEADERS: GOAWAY INTERNAL_ERROR; PRIORITY: GOAWAY
 *     PROTOCOL_ERROR "depend on itself").
 */
import t from 'tap';
import { headerBlock } from './hpack.js';
import { ErrorCode, Flag, FrameType, REQUEST, Setting, u32 } from './raw-peer.js';
import { connect } from './target.js';

const PRIORITY_PAYLOAD = Buffer.from([0, 0, 0, 0, 16]);

for (const [section, type, name, payload] of [
  ['§6.1', FrameType.DATA, 'DATA', Buffer.from('x')],
  ['§6.2', FrameType.HEADERS, 'HEADERS', headerBlock(REQUEST)],
  ['§6.3', FrameType.PRIORITY, 'PRIORITY', PRIORITY_PAYLOAD],
  ['§6.4', FrameType.RST_STREAM, 'RST_STREAM', u32(ErrorCode.CANCEL)],
  ['§6.10', FrameType.CONTINUATION, 'CONTINUATION', headerBlock(REQUEST)],
] as const) {
  void t.test(`${section} ${name} on stream 0: connection error PROTOCOL_ERROR`, async (t) => {
    const peer = await connect(t);
    peer.frame(
      type,
      type === FrameType.HEADERS || type === FrameType.CONTINUATION ? Flag.END_HEADERS : 0,
      0,
      payload,
    );
    await peer.expectGoaway(ErrorCode.PROTOCOL_ERROR);
  });
}

for (const [section, type, name, payload] of [
  ['§6.5', FrameType.SETTINGS, 'SETTINGS', Buffer.alloc(0)],
  ['§6.7', FrameType.PING, 'PING', Buffer.alloc(8)],
  ['§6.8', FrameType.GOAWAY, 'GOAWAY', Buffer.alloc(8)],
] as const) {
  void t.test(
    `${section} ${name} on a non-zero stream: connection error PROTOCOL_ERROR`,
    async (t) => {
      const peer = await connect(t);
      peer.request(1, { endStream: false });
      peer.frame(type, 0, 1, payload);
      await peer.expectGoaway(ErrorCode.PROTOCOL_ERROR);
    },
  );
}

void t.test('§6.1 DATA whose padding length is the payload length: PROTOCOL_ERROR', async (t) => {
  const peer = await connect(t);
  peer.request(1, { endStream: false });
  // Pad Length 5 in a 5-octet payload: the padding cannot fit.
  peer.frame(FrameType.DATA, Flag.PADDED | Flag.END_STREAM, 1, Buffer.from([5, 0, 0, 0, 0]));
  await peer.expectGoaway(ErrorCode.PROTOCOL_ERROR);
});

void t.test('§6.2 HEADERS whose padding length exceeds the payload: PROTOCOL_ERROR', async (t) => {
  const peer = await connect(t);
  const block = headerBlock(REQUEST);
  const payload = Buffer.concat([Buffer.from([block.length + 10]), block]);
  peer.frame(FrameType.HEADERS, Flag.PADDED | Flag.END_HEADERS | Flag.END_STREAM, 1, payload);
  await peer.expectGoaway(ErrorCode.PROTOCOL_ERROR);
});

void t.test('§6.1/§6.2 valid padding on HEADERS and DATA is stripped', async (t) => {
  const peer = await connect(t);
  peer.headers(1, headerBlock(REQUEST), { padLength: 7 });
  peer.data(1, Buffer.from('padded body'), { endStream: true, padLength: 20 });
  const response = await peer.readResponse(1);
  t.equal(response.body.toString(), 'padded body', 'body echoed without padding');
});

void t.test('§5.5 an unknown frame type is ignored', async (t) => {
  const peer = await connect(t);
  peer.frame(0xfa, 0xff, 0, Buffer.from('on stream 0'));
  peer.request(1, { endStream: false });
  peer.frame(0xfb, 0, 1, Buffer.from('on an open stream'));
  peer.frame(0xfc, 0, 99, Buffer.from('on an idle stream'));
  peer.data(1, Buffer.from('body'), { endStream: true });
  const response = await peer.readResponse(1);
  t.equal(response.body.toString(), 'body', 'the stream completes');
  await peer.expectNoErrorSoFar();
});

void t.test('§6.5.2 an unknown SETTINGS identifier is ignored (and ACKed)', async (t) => {
  const peer = await connect(t);
  peer.settings([
    [0xff, 1],
    [0x4a4a, 0xffffffff],
  ]);
  await peer.nextFrame(
    'SETTINGS ACK',
    (f) => f.type === FrameType.SETTINGS && f.flags === Flag.ACK,
    {
      failOn: (f) => f.type === FrameType.GOAWAY,
    },
  );
  await peer.expectWorking();
});

void t.test('§6.5 SETTINGS is answered with an empty SETTINGS ACK', async (t) => {
  const peer = await connect(t);
  peer.settings([[Setting.MAX_CONCURRENT_STREAMS, 10]]);
  const ack = await peer.nextFrame(
    'SETTINGS ACK',
    (f) => f.type === FrameType.SETTINGS && f.flags === Flag.ACK,
  );
  t.equal(ack.payload.length, 0, 'empty payload');
  t.equal(ack.streamId, 0, 'stream 0');
});

void t.test('§6.5.2 SETTINGS_ENABLE_PUSH other than 0 or 1: PROTOCOL_ERROR', async (t) => {
  const peer = await connect(t);
  peer.settings([[Setting.ENABLE_PUSH, 2]]);
  await peer.expectGoaway(ErrorCode.PROTOCOL_ERROR);
});

void t.test('§6.5.2 SETTINGS_INITIAL_WINDOW_SIZE above 2^31-1: FLOW_CONTROL_ERROR', async (t) => {
  const peer = await connect(t);
  peer.settings([[Setting.INITIAL_WINDOW_SIZE, 2 ** 31]]);
  await peer.expectGoaway(ErrorCode.FLOW_CONTROL_ERROR);
});

void t.test('§6.5.2 SETTINGS_INITIAL_WINDOW_SIZE of exactly 2^31-1 is accepted', async (t) => {
  const peer = await connect(t);
  peer.settings([[Setting.INITIAL_WINDOW_SIZE, 2 ** 31 - 1]]);
  await peer.expectWorking();
});

void t.test('§6.5.2 SETTINGS_MAX_FRAME_SIZE below 16,384: PROTOCOL_ERROR', async (t) => {
  const peer = await connect(t);
  peer.settings([[Setting.MAX_FRAME_SIZE, 16_383]]);
  await peer.expectGoaway(ErrorCode.PROTOCOL_ERROR);
});

void t.test('§6.5.2 SETTINGS_MAX_FRAME_SIZE above 2^24-1: PROTOCOL_ERROR', async (t) => {
  const peer = await connect(t);
  peer.settings([[Setting.MAX_FRAME_SIZE, 2 ** 24]]);
  await peer.expectGoaway(ErrorCode.PROTOCOL_ERROR);
});

void t.test('§6.7 PING is answered with a PING ACK carrying the same payload', async (t) => {
  const peer = await connect(t);
  const payload = Buffer.from('h2-ping!');
  peer.ping(payload);
  const ack = await peer.nextFrame(
    'PING ACK',
    (f) => f.type === FrameType.PING && (f.flags & Flag.ACK) !== 0,
    {
      failOn: (f) => f.type === FrameType.GOAWAY,
    },
  );
  t.same(ack.payload, payload, 'same payload');
  t.equal(ack.streamId, 0, 'stream 0');
});

void t.test('§6.7 a PING ACK is not answered', async (t) => {
  const peer = await connect(t);
  const unsolicited = Buffer.from('ack-only');
  peer.ping(unsolicited, true);
  // The PING after it is answered; frames are processed in order, so an
  // answer to the ACK would have come first.
  await peer.expectNoErrorSoFar();
  const answers = peer.received.filter(
    (f) => f.type === FrameType.PING && f.payload.equals(unsolicited),
  );
  t.equal(answers.length, 0, 'no PING with the ACK payload came back');
});

void t.test(
  '§5.3.1 HEADERS whose priority depends on its own stream: stream error PROTOCOL_ERROR',
  async (t) => {
    const peer = await connect(t);
    peer.headers(1, headerBlock(REQUEST), {
      endStream: true,
      priority: { dependency: 1, weight: 16 },
    });
    await peer.expectStreamError(1, ErrorCode.PROTOCOL_ERROR);
  },
);

void t.test(
  '§5.3.1 PRIORITY making a stream depend on itself: stream error PROTOCOL_ERROR',
  async (t) => {
    const peer = await connect(t);
    peer.request(1, { endStream: false });
    peer.priority(1, 1);
    await peer.expectStreamError(1, ErrorCode.PROTOCOL_ERROR);
  },
);
