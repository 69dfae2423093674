/**
 * RFC 9113 §4.2 (frame size) and the fixed lengths of §6.3, §6.4, §6.5,
 * §6.7, §6.8, §6.9.
 *
 * nodejs target (node:http2 / nghttp2, Node 20) differs on 12 of 13:
 *   - every connection error: nghttp2 sends the right GOAWAY FRAME_SIZE_ERROR
 *     but node leaves the TCP connection open (§5.4.1: MUST close);
 *   - DATA over the max frame size: connection error (allowed), left open;
 *   - PRIORITY of 4 octets: connection error FRAME_SIZE_ERROR instead of the
 *     stream error RFC 9113 §6.3 prescribes (RFC 7540 behaviour).
 */
import t from 'tap';
import { headerBlock } from './hpack.js';
import { ErrorCode, Flag, FrameType, REQUEST, Setting } from './raw-peer.js';
import { connect } from './target.js';

void t.test(
  '§4.2 HEADERS over SETTINGS_MAX_FRAME_SIZE: connection error FRAME_SIZE_ERROR',
  async (t) => {
    const peer = await connect(t);
    const max = peer.serverSettings.get(Setting.MAX_FRAME_SIZE) ?? 16_384;
    const block = Buffer.concat([headerBlock(REQUEST), headerBlock([['x-big', 'a'.repeat(max)]])]);
    t.ok(block.length > max, `block of ${block.length} B > ${max}`);
    peer.frame(FrameType.HEADERS, Flag.END_HEADERS | Flag.END_STREAM, 1, block);
    // A frame carrying a field block can alter connection state: connection error.
    await peer.expectGoaway(ErrorCode.FRAME_SIZE_ERROR);
  },
);

void t.test('§4.2 DATA over SETTINGS_MAX_FRAME_SIZE: FRAME_SIZE_ERROR', async (t) => {
  const peer = await connect(t);
  const max = peer.serverSettings.get(Setting.MAX_FRAME_SIZE) ?? 16_384;
  peer.request(1, { endStream: false });
  peer.data(1, Buffer.alloc(max + 1));
  // Stream error or connection error: §4.2 obliges a connection error only for
  // frames that can alter connection state.
  await peer.expectStreamOrConnectionError(1, ErrorCode.FRAME_SIZE_ERROR);
});

void t.test(
  '§4.2 an unknown frame type over SETTINGS_MAX_FRAME_SIZE: FRAME_SIZE_ERROR',
  async (t) => {
    const peer = await connect(t);
    const max = peer.serverSettings.get(Setting.MAX_FRAME_SIZE) ?? 16_384;
    peer.frame(0xfa, 0, 0, Buffer.alloc(max + 1));
    // On stream 0: a connection error.
    await peer.expectGoaway(ErrorCode.FRAME_SIZE_ERROR);
  },
);

void t.test('§6.5 SETTINGS with a length not a multiple of 6: FRAME_SIZE_ERROR', async (t) => {
  const peer = await connect(t);
  peer.frame(FrameType.SETTINGS, 0, 0, Buffer.from([0, 3, 0, 0, 0, 100, 0]));
  await peer.expectGoaway(ErrorCode.FRAME_SIZE_ERROR);
});

void t.test('§6.5 SETTINGS ACK with a payload: FRAME_SIZE_ERROR', async (t) => {
  const peer = await connect(t);
  peer.frame(FrameType.SETTINGS, Flag.ACK, 0, Buffer.from([0, 3, 0, 0, 0, 100]));
  await peer.expectGoaway(ErrorCode.FRAME_SIZE_ERROR);
});

void t.test('§6.7 PING with a length other than 8: FRAME_SIZE_ERROR', async (t) => {
  const peer = await connect(t);
  peer.frame(FrameType.PING, 0, 0, Buffer.alloc(6));
  await peer.expectGoaway(ErrorCode.FRAME_SIZE_ERROR);
});

void t.test('§6.7 PING with 9 octets: FRAME_SIZE_ERROR', async (t) => {
  const peer = await connect(t);
  peer.frame(FrameType.PING, 0, 0, Buffer.alloc(9));
  await peer.expectGoaway(ErrorCode.FRAME_SIZE_ERROR);
});

void t.test(
  '§6.9 WINDOW_UPDATE (stream 0) with a length other than 4: FRAME_SIZE_ERROR',
  async (t) => {
    const peer = await connect(t);
    peer.frame(FrameType.WINDOW_UPDATE, 0, 0, Buffer.from([0, 0, 1]));
    await peer.expectGoaway(ErrorCode.FRAME_SIZE_ERROR);
  },
);

void t.test(
  '§6.9 WINDOW_UPDATE (open stream) with a length other than 4: FRAME_SIZE_ERROR',
  async (t) => {
    const peer = await connect(t);
    peer.request(1, { endStream: false });
    peer.frame(FrameType.WINDOW_UPDATE, 0, 1, Buffer.from([0, 0, 0, 1, 0]));
    // §6.9: "MUST be treated as a connection error", whatever the stream.
    await peer.expectGoaway(ErrorCode.FRAME_SIZE_ERROR);
  },
);

void t.test('§6.4 RST_STREAM with a length other than 4: FRAME_SIZE_ERROR', async (t) => {
  const peer = await connect(t);
  peer.request(1, { endStream: false });
  peer.frame(FrameType.RST_STREAM, 0, 1, Buffer.from([0, 0, 0, 0, 8]));
  await peer.expectGoaway(ErrorCode.FRAME_SIZE_ERROR);
});

void t.test(
  '§6.3 PRIORITY with a length other than 5: stream error FRAME_SIZE_ERROR',
  async (t) => {
    const peer = await connect(t);
    peer.request(1, { endStream: false });
    peer.frame(FrameType.PRIORITY, 0, 1, Buffer.from([0, 0, 0, 0]));
    await peer.expectStreamError(1, ErrorCode.FRAME_SIZE_ERROR);
  },
);

void t.test('§6.8 GOAWAY shorter than 8 octets: FRAME_SIZE_ERROR', async (t) => {
  const peer = await connect(t);
  peer.frame(FrameType.GOAWAY, 0, 0, Buffer.from([0, 0, 0, 0]));
  // §4.2: a frame too small to contain its mandatory fields; stream 0 → connection error.
  await peer.expectGoaway(ErrorCode.FRAME_SIZE_ERROR);
});

void t.test('§4.2 a frame of exactly SETTINGS_MAX_FRAME_SIZE is accepted', async (t) => {
  const peer = await connect(t);
  const max = peer.serverSettings.get(Setting.MAX_FRAME_SIZE) ?? 16_384;
  // Within both windows: the connection window is at least 65,535, and we
  // credit the stream past its initial size first.
  peer.request(1, { endStream: false });
  peer.frame(FrameType.WINDOW_UPDATE, 0, 0, Buffer.from([0, 1, 0, 0]));
  const streamWindow = peer.serverSettings.get(Setting.INITIAL_WINDOW_SIZE) ?? 65_535;
  peer.data(1, Buffer.alloc(Math.min(max, streamWindow), 0x61), { endStream: true });
  peer.windowUpdate(1, 65_535);
  const response = await peer.readResponse(1);
  t.equal(response.body.length, Math.min(max, streamWindow), 'echoed in full');
});
