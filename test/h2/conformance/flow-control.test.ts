/**
 * RFC 9113 §6.9 WINDOW_UPDATE and flow control, §6.9.1 windows, §6.9.2
 * SETTINGS_INITIAL_WINDOW_SIZE.
 *
 * nodejs target (node:http2 / nghttp2, Node 20) differs on 5 of 12:
 *   - WINDOW_UPDATE 0 on a stream: connection error GOAWAY INTERNAL_ERROR, not
 *     a stream error; on the connection: GOAWAY INTERNAL_ERROR, not
 *     PROTOCOL_ERROR;
 *   - stream window overflow: RST_STREAM FLOW_CONTROL_ERROR, then the
 *     follow-up request gets GOAWAY INTERNAL_ERROR;
 *   - connection window overflow: GOAWAY INTERNAL_ERROR;
 *   - INITIAL_WINDOW_SIZE change overflowing an open stream: RST_STREAM
 *     FLOW_CONTROL_ERROR on that stream instead of the connection error
 *     §6.9.2 prescribes.
 */
import t from 'tap';
import {
  dataPayload,
  ErrorCode,
  Flag,
  FrameType,
  type Frame,
  type RawPeer,
  Setting,
} from './raw-peer.js';
import { connect } from './target.js';

const MAX_WINDOW = 2 ** 31 - 1;

const isData = (streamId: number) => (f: Frame) =>
  f.type === FrameType.DATA && f.streamId === streamId;
const failOnError = (f: Frame): boolean =>
  f.type === FrameType.GOAWAY || f.type === FrameType.RST_STREAM;

void t.test(
  '§6.9 WINDOW_UPDATE with increment 0 on a stream: stream error PROTOCOL_ERROR',
  async (t) => {
    const peer = await connect(t);
    peer.request(1, { endStream: false });
    peer.windowUpdate(1, 0);
    await peer.expectStreamError(1, ErrorCode.PROTOCOL_ERROR);
  },
);

void t.test('§6.9 WINDOW_UPDATE with increment 0 on the connection: PROTOCOL_ERROR', async (t) => {
  const peer = await connect(t);
  peer.windowUpdate(0, 0);
  await peer.expectGoaway(ErrorCode.PROTOCOL_ERROR);
});

void t.test('§6.9.1 a stream window past 2^31-1: stream error FLOW_CONTROL_ERROR', async (t) => {
  const peer = await connect(t);
  peer.request(1, { endStream: false });
  peer.windowUpdate(1, MAX_WINDOW);
  await peer.expectStreamError(1, ErrorCode.FLOW_CONTROL_ERROR);
});

void t.test('§6.9.1 the connection window past 2^31-1: FLOW_CONTROL_ERROR', async (t) => {
  const peer = await connect(t);
  peer.windowUpdate(0, MAX_WINDOW);
  await peer.expectGoaway(ErrorCode.FLOW_CONTROL_ERROR);
});

void t.test('§6.9.1 windows of exactly 2^31-1 are accepted', async (t) => {
  const peer = await connect(t);
  peer.windowUpdate(0, MAX_WINDOW - 65_535);
  peer.request(1, { endStream: false });
  peer.windowUpdate(1, MAX_WINDOW - 65_535);
  peer.data(1, Buffer.from('max'), { endStream: true });
  const response = await peer.readResponse(1);
  t.equal(response.body.toString(), 'max', 'served');
});

void t.test(
  '§6.9.2 SETTINGS_INITIAL_WINDOW_SIZE pushing an open stream past 2^31-1: FLOW_CONTROL_ERROR',
  async (t) => {
    const peer = await connect(t);
    peer.request(1, { endStream: false });
    peer.windowUpdate(1, MAX_WINDOW - 65_535);
    peer.settings([[Setting.INITIAL_WINDOW_SIZE, 65_536]]);
    await peer.expectGoaway(ErrorCode.FLOW_CONTROL_ERROR);
  },
);

void t.test(
  '§6.9.1 DATA beyond the stream window the server advertised: FLOW_CONTROL_ERROR',
  async (t) => {
    const peer = await connect(t);
    const window = peer.serverSettings.get(Setting.INITIAL_WINDOW_SIZE) ?? 65_535;
    const maxFrame = peer.serverSettings.get(Setting.MAX_FRAME_SIZE) ?? 16_384;
    if (window >= maxFrame) {
      t.fail(
        `the target must advertise an initial window (${window}) below its max frame size (${maxFrame})`,
      );
      return;
    }
    // One frame one octet over the window: no WINDOW_UPDATE can have raced it.
    peer.request(1, { endStream: false });
    peer.data(1, Buffer.alloc(window + 1, 0x61));
    // §6.9.1 leaves stream or connection error to the receiver; the code is FLOW_CONTROL_ERROR.
    await peer.expectStreamOrConnectionError(1, ErrorCode.FLOW_CONTROL_ERROR);
  },
);

void t.test('§6.9.1 DATA filling the stream window exactly is accepted', async (t) => {
  const peer = await connect(t);
  const window = peer.serverSettings.get(Setting.INITIAL_WINDOW_SIZE) ?? 65_535;
  const maxFrame = peer.serverSettings.get(Setting.MAX_FRAME_SIZE) ?? 16_384;
  peer.settings([[Setting.INITIAL_WINDOW_SIZE, MAX_WINDOW]]);
  peer.request(1, { endStream: false });
  for (let sent = 0; sent < window; sent += maxFrame) {
    peer.data(1, Buffer.alloc(Math.min(maxFrame, window - sent), 0x62), {
      endStream: sent + maxFrame >= window,
    });
  }
  const response = await peer.readResponse(1);
  t.equal(response.body.length, window, 'echoed');
});

/** Receives DATA on `streamId` until `total` bytes, failing if more than `credit` arrive. */
async function receiveUpTo(
  peer: RawPeer,
  streamId: number,
  total: number,
  credit: number,
  got: { bytes: number; frames: number[] },
): Promise<void> {
  while (got.bytes < total) {
    const frame = await peer.nextFrame(
      `DATA on stream ${streamId} (${got.bytes}/${total} B so far)`,
      isData(streamId),
      { failOn: failOnError },
    );
    const length = dataPayload(frame).length;
    got.bytes += length;
    got.frames.push(length);
    if (got.bytes > credit)
      throw new Error(`server sent ${got.bytes} B with only ${credit} B of window`);
  }
}

void t.test(
  '§6.9.1 the server honours a 10-octet client window: the body comes as credit is given',
  async (t) => {
    const peer = await connect(t, { settings: [[Setting.INITIAL_WINDOW_SIZE, 10]] });
    const body = Buffer.from('0123456789abcdefghijKLMNO');
    peer.request(1, { body });
    const got = { bytes: 0, frames: [] as number[] };
    await receiveUpTo(peer, 1, 10, 10, got);
    // A PING round trip: anything the server would send past the window shows up before its ACK.
    await peer.expectNoErrorSoFar();
    t.equal(got.bytes, 10, 'the server stopped at 10 octets');
    peer.windowUpdate(1, 10);
    await receiveUpTo(peer, 1, 20, 20, got);
    await peer.expectNoErrorSoFar();
    t.equal(got.bytes, 20, 'then at 20 octets');
    peer.windowUpdate(1, 10);
    await receiveUpTo(peer, 1, 25, 30, got);
    const trailers = await peer.nextFrame(
      'trailers',
      (f) => f.type === FrameType.HEADERS && f.streamId === 1 && (f.flags & Flag.END_STREAM) !== 0,
      { failOn: failOnError },
    );
    t.same(trailers.fields, [['grpc-status', '0']], 'trailers after the body');
    t.ok(
      got.frames.every((n) => n <= 10),
      `every DATA frame fits the window (${got.frames.join(', ')})`,
    );
  },
);

void t.test(
  '§6.9.2 a SETTINGS_INITIAL_WINDOW_SIZE raise releases a stream held at window 0',
  async (t) => {
    const peer = await connect(t, { settings: [[Setting.INITIAL_WINDOW_SIZE, 0]] });
    peer.request(1, { body: Buffer.from('waiting for settings') });
    await peer.nextFrame(
      'response HEADERS',
      (f) => f.type === FrameType.HEADERS && f.streamId === 1,
      { failOn: failOnError },
    );
    await peer.expectNoErrorSoFar();
    t.notOk(peer.received.some(isData(1)), 'no DATA at window 0');
    peer.settings([[Setting.INITIAL_WINDOW_SIZE, 1_000]]);
    const got = { bytes: 0, frames: [] as number[] };
    await receiveUpTo(peer, 1, 20, 1_000, got);
    t.equal(got.bytes, 20, 'body released by SETTINGS');
  },
);

void t.test('§6.9.1 the connection window limits the server across streams', async (t) => {
  // Our connection window stays 65,535 (we never send WINDOW_UPDATE on stream 0);
  // stream windows are huge. The echo of 70,000 B must stop at 65,535 until we credit the connection.
  const peer = await connect(t, { settings: [[Setting.INITIAL_WINDOW_SIZE, MAX_WINDOW]] });
  const window = peer.serverSettings.get(Setting.INITIAL_WINDOW_SIZE) ?? 65_535;
  const maxFrame = peer.serverSettings.get(Setting.MAX_FRAME_SIZE) ?? 16_384;
  const total = 70_000;
  // Send the request body within the server's windows, waiting for its credit.
  peer.request(1, { endStream: false });
  let sent = 0;
  let streamCredit = window;
  let connectionCredit = 65_535;
  const got = { bytes: 0, frames: [] as number[] };
  while (sent < total) {
    const chunk = Math.min(maxFrame, streamCredit, connectionCredit, total - sent);
    if (chunk > 0) {
      peer.data(1, Buffer.alloc(chunk, 0x63), { endStream: sent + chunk === total });
      sent += chunk;
      streamCredit -= chunk;
      connectionCredit -= chunk;
      continue;
    }
    const update = await peer.nextFrame(
      'WINDOW_UPDATE from the server',
      (f) => f.type === FrameType.WINDOW_UPDATE && (f.streamId === 1 || f.streamId === 0),
      { failOn: failOnError },
    );
    if (update.streamId === 0) connectionCredit += update.payload.readUInt32BE(0);
    else streamCredit += update.payload.readUInt32BE(0);
  }
  await receiveUpTo(peer, 1, 65_535, 65_535, got);
  await peer.expectNoErrorSoFar();
  t.equal(got.bytes, 65_535, 'the server stopped at the connection window');
  peer.windowUpdate(0, 10_000);
  await receiveUpTo(peer, 1, total, 75_535, got);
  t.equal(got.bytes, total, 'the rest after a connection WINDOW_UPDATE');
  t.ok(
    got.frames.every((n) => n <= 16_384),
    'no DATA frame above our SETTINGS_MAX_FRAME_SIZE (default 16,384)',
  );
});

void t.test(
  '§6.9.2 a SETTINGS_INITIAL_WINDOW_SIZE cut makes a stream window negative',
  async (t) => {
    const peer = await connect(t, { settings: [[Setting.INITIAL_WINDOW_SIZE, 100]] });
    peer.request(1, { body: Buffer.alloc(300, 0x64) });
    const got = { bytes: 0, frames: [] as number[] };
    await receiveUpTo(peer, 1, 100, 100, got);
    await peer.expectNoErrorSoFar();
    // 100 used of 100; cutting the initial size to 50 leaves the window at -50.
    peer.settings([[Setting.INITIAL_WINDOW_SIZE, 50]]);
    await peer.nextFrame(
      'SETTINGS ACK',
      (f) => f.type === FrameType.SETTINGS && (f.flags & Flag.ACK) !== 0,
      { failOn: failOnError },
    );
    peer.windowUpdate(1, 60);
    // -50 + 60 = 10 octets of room: 110 in all, not 160.
    await receiveUpTo(peer, 1, 110, 110, got);
    await peer.expectNoErrorSoFar();
    t.equal(got.bytes, 110, 'the server counted the negative window');
    peer.windowUpdate(1, 1_000);
    await receiveUpTo(peer, 1, 300, 1_110, got);
    t.equal(got.bytes, 300, 'the rest after more credit');
  },
);
