/**
 * Denial-of-service protections (RFC 9113 §10.5, RFC 7541 §7.3): HPACK bomb,
 * oversized header lists, CONTINUATION flood (CVE-2024-27316 family), rapid
 * reset (CVE-2023-44487), PING and SETTINGS floods (CVE-2019-9512/9515),
 * empty-frame flood (CVE-2019-9518). The RFC leaves the limits to the
 * server; the codes follow §10.5 (ENHANCE_YOUR_CALM) and §10.5.1 (431 or a
 * stream/connection error).
 *
 * Floods are sent in batches, each followed by a PING whose ACK (or the
 * GOAWAY) paces the next batch: the server has read everything sent so far
 * when it decides to close, so its close is a FIN and its GOAWAY cannot be
 * lost to a TCP reset.
 *
 * nodejs target (node:http2 / nghttp2, Node 20) differs on 5 of 8:
 *   - CONTINUATION flood: closed promptly but with GOAWAY INTERNAL_ERROR;
 *   - rapid reset: GOAWAY INTERNAL_ERROR after ~2,000 streams, connection
 *     left open;
 *   - PING flood, SETTINGS flood: no limit while the peer reads its ACKs
 *     (3,000 of each answered, no GOAWAY);
 *   - empty DATA flood: GOAWAY INTERNAL_ERROR.
 * HPACK bomb and the oversized header list are refused as by switchyard.
 */
import t, { type Test } from 'tap';
import { headerBlock, indexed, literalIndexed } from './hpack.js';
import {
  encodeFrame,
  ErrorCode,
  Flag,
  FrameType,
  REQUEST,
  Setting,
  type RawPeer,
  u32,
} from './raw-peer.js';
import { connect } from './target.js';

const REQUEST_BLOCK = headerBlock(REQUEST);

/**
 * Sends `batches` batches, pacing each with a PING round trip; stops early at
 * a GOAWAY or close. Returns the number of batches sent.
 */
async function flood(
  peer: RawPeer,
  batches: number,
  batch: (i: number) => Buffer,
): Promise<number> {
  for (let i = 0; i < batches; i++) {
    if (peer.closed || peer.received.some((f) => f.type === FrameType.GOAWAY)) return i;
    const payload = Buffer.alloc(8);
    payload.writeUInt32BE(0xf100d000 + i);
    peer.send(batch(i), encodeFrame(FrameType.PING, 0, 0, payload));
    try {
      await peer.nextFrame(
        `PING ACK after flood batch ${i}`,
        (f) => f.type === FrameType.PING && (f.flags & Flag.ACK) !== 0 && f.payload.equals(payload),
        { failOn: (f) => f.type === FrameType.GOAWAY },
      );
    } catch (error) {
      // The GOAWAY (left unread for expectGoaway) or the close ends the flood.
      if (peer.isClosed() || peer.received.some((f) => f.type === FrameType.GOAWAY)) return i + 1;
      throw error;
    }
  }
  return batches;
}

/** After an oversized header list: 431, RST_STREAM or GOAWAY — and which. */
async function expectRefusedHeaders(
  t: Test,
  peer: RawPeer,
  streamId: number,
): Promise<'431' | 'reset' | 'goaway'> {
  const frame = await peer.nextFrame(
    `431, RST_STREAM(${streamId}) or GOAWAY`,
    (f) =>
      f.type === FrameType.GOAWAY ||
      (f.streamId === streamId &&
        (f.type === FrameType.RST_STREAM || f.type === FrameType.HEADERS)),
  );
  if (frame.type === FrameType.GOAWAY) {
    t.pass(`connection error ${frame.payload.length >= 8 ? frame.payload.readUInt32BE(4) : '?'}`);
    await peer.expectConnectionClosed();
    return 'goaway';
  }
  if (frame.type === FrameType.RST_STREAM) {
    t.pass(`stream error ${frame.payload.readUInt32BE(0)}`);
    return 'reset';
  }
  t.same(
    frame.fields?.find(([n]) => n === ':status'),
    [':status', '431'],
    'response is 431',
  );
  return '431';
}

void t.test(
  '§10.5.1/RFC 7541 §7.3 HPACK bomb past SETTINGS_MAX_HEADER_LIST_SIZE: refused, memory bounded',
  async (t) => {
    const peer = await connect(t);
    const limit = peer.serverSettings.get(Setting.MAX_HEADER_LIST_SIZE);
    if (limit === undefined || limit > 1 << 20) {
      t.fail(`the target must advertise a SETTINGS_MAX_HEADER_LIST_SIZE (got ${limit})`);
      return;
    }
    // One 4,000-octet entry, then 40,000 one-octet references to it: a 45 KB
    // block that decodes to ~160 MB.
    const references = 40_000;
    const block = Buffer.concat([
      REQUEST_BLOCK,
      literalIndexed('x-bomb', 'b'.repeat(4000)),
      Buffer.alloc(references, indexed(62)[0]),
    ]);
    const heapBefore = process.memoryUsage().heapUsed;
    const maxFrame = peer.serverSettings.get(Setting.MAX_FRAME_SIZE) ?? 16_384;
    const parts: Buffer[] = [];
    for (let offset = 0; offset < block.length; offset += maxFrame)
      parts.push(block.subarray(offset, offset + maxFrame));
    peer.headers(1, parts[0] ?? Buffer.alloc(0), {
      endStream: true,
      endHeaders: parts.length === 1,
    });
    parts.slice(1).forEach((part, i) => peer.continuation(1, part, i === parts.length - 2));
    const outcome = await expectRefusedHeaders(t, peer, 1);
    const grown = process.memoryUsage().heapUsed - heapBefore;
    t.ok(
      grown < 64 * 1024 * 1024,
      `heap grew ${Math.round(grown / 1024 / 1024)} MB (< 64 MB) for ~160 MB decoded`,
    );
    if (outcome !== 'goaway') {
      // §4.3: the block must still have been decoded, so the table holds x-bomb at 62.
      peer.request(3, {
        block: Buffer.concat([REQUEST_BLOCK, indexed(62)]),
        body: Buffer.from('after the bomb'),
      });
      const response = await peer.readResponse(3);
      t.equal(
        response.body.toString(),
        'after the bomb',
        'dynamic table still in sync; connection serves',
      );
    }
  },
);

void t.test(
  '§10.5.1 a header list over SETTINGS_MAX_HEADER_LIST_SIZE: 431 or stream/connection error',
  async (t) => {
    const peer = await connect(t);
    const limit = peer.serverSettings.get(Setting.MAX_HEADER_LIST_SIZE) ?? 16_384;
    const maxFrame = peer.serverSettings.get(Setting.MAX_FRAME_SIZE) ?? 16_384;
    const big = headerBlock([['x-big', 'c'.repeat(limit)]]);
    peer.headers(1, REQUEST_BLOCK, { endStream: true, endHeaders: false });
    for (let offset = 0; offset < big.length; offset += maxFrame) {
      peer.continuation(
        1,
        big.subarray(offset, offset + maxFrame),
        offset + maxFrame >= big.length,
      );
    }
    const outcome = await expectRefusedHeaders(t, peer, 1);
    if (outcome !== 'goaway') await peer.expectWorking();
  },
);

void t.test('§10.5 CONTINUATION flood (no END_HEADERS): connection closed promptly', async (t) => {
  const peer = await connect(t);
  peer.headers(1, REQUEST_BLOCK, { endHeaders: false });
  const fragment = encodeFrame(FrameType.CONTINUATION, 0, 1, headerBlock([['x-f', 'v']]));
  const total = 10_000;
  let sent = 0;
  while (sent < total && !peer.closed && !peer.received.some((f) => f.type === FrameType.GOAWAY)) {
    await peer.sendAndDrain(Buffer.concat(Array.from({ length: 50 }, () => fragment)));
    sent += 50;
    // Let the reply in before the next batch (pacing, not synchronisation: the
    // GOAWAY wait below is what the test waits on).
    await new Promise((resolve) => setImmediate(resolve));
  }
  await peer.expectGoaway([ErrorCode.ENHANCE_YOUR_CALM, ErrorCode.PROTOCOL_ERROR]);
  t.ok(sent < total, `closed after ${sent} of ${total} CONTINUATIONs`);
});

void t.test(
  '§10.5 rapid reset (HEADERS + RST_STREAM in a loop): GOAWAY ENHANCE_YOUR_CALM',
  async (t) => {
    const peer = await connect(t);
    const perBatch = 50;
    const batches = 60;
    const sent = await flood(peer, batches, (i) =>
      Buffer.concat(
        Array.from({ length: perBatch }, (_, j) => {
          const id = 1 + 2 * (i * perBatch + j);
          return Buffer.concat([
            encodeFrame(FrameType.HEADERS, Flag.END_HEADERS, id, REQUEST_BLOCK),
            encodeFrame(FrameType.RST_STREAM, 0, id, u32(ErrorCode.CANCEL)),
          ]);
        }),
      ),
    );
    t.ok(sent < batches, `stopped after ${sent * perBatch} of ${batches * perBatch} resets`);
    await peer.expectGoaway(ErrorCode.ENHANCE_YOUR_CALM);
  },
);

void t.test('§10.5 PING flood: GOAWAY ENHANCE_YOUR_CALM', async (t) => {
  const peer = await connect(t);
  const batches = 60;
  const sent = await flood(peer, batches, () =>
    Buffer.concat(
      Array.from({ length: 50 }, () => encodeFrame(FrameType.PING, 0, 0, Buffer.alloc(8))),
    ),
  );
  t.ok(sent < batches, `stopped after ${sent * 50} of ${batches * 50} PINGs`);
  await peer.expectGoaway(ErrorCode.ENHANCE_YOUR_CALM);
});

void t.test('§10.5 SETTINGS flood: GOAWAY ENHANCE_YOUR_CALM', async (t) => {
  const peer = await connect(t);
  const batches = 60;
  const sent = await flood(peer, batches, () =>
    Buffer.concat(Array.from({ length: 50 }, () => encodeFrame(FrameType.SETTINGS, 0, 0))),
  );
  t.ok(sent < batches, `stopped after ${sent * 50} of ${batches * 50} SETTINGS`);
  await peer.expectGoaway(ErrorCode.ENHANCE_YOUR_CALM);
});

void t.test('§10.5 empty DATA frame flood: GOAWAY ENHANCE_YOUR_CALM', async (t) => {
  const peer = await connect(t);
  peer.request(1, { endStream: false });
  const batches = 60;
  const sent = await flood(peer, batches, () =>
    Buffer.concat(Array.from({ length: 50 }, () => encodeFrame(FrameType.DATA, 0, 1))),
  );
  t.ok(sent < batches, `stopped after ${sent * 50} of ${batches * 50} empty DATA frames`);
  await peer.expectGoaway(ErrorCode.ENHANCE_YOUR_CALM);
});

void t.test('§10.5 a few PINGs, SETTINGS and resets stay below the limits', async (t) => {
  const peer = await connect(t);
  for (let i = 0; i < 10; i++) {
    peer.ping(Buffer.alloc(8, i));
    peer.settings();
    const id = 1 + 2 * i;
    peer.request(id, { endStream: false });
    peer.rstStream(id, ErrorCode.CANCEL);
  }
  await peer.expectNoErrorSoFar();
  await peer.expectWorking();
});
