/**
 * RFC 9113 §3.4 (connection preface) and §6.5 (SETTINGS first).
 *
 * nodejs target (node:http2 / nghttp2, Node 20) differs on 3 of 5:
 *   - invalid preface, HTTP/1.1 request: closes, but after GOAWAY INTERNAL_ERROR
 *     (node's session error path), not PROTOCOL_ERROR;
 *   - first frame not SETTINGS: GOAWAY INTERNAL_ERROR, not PROTOCOL_ERROR.
 */
import t from 'tap';
import { encodeFrame, ErrorCode, FrameType, PREFACE, RawPeer, errorName } from './raw-peer.js';
import { connect, startTarget } from './target.js';

/** After a close, any GOAWAY the server sent must carry PROTOCOL_ERROR (§3.4 lets it omit one). */
function goawayCodes(peer: RawPeer): string[] {
  return peer.received
    .filter((f) => f.type === FrameType.GOAWAY)
    .map((f) => errorName(f.payload.readUInt32BE(4)));
}

void t.test('§3.4 the server preface is a SETTINGS frame, and it ACKs ours', async (t) => {
  // RawPeer.open fails unless the first frame is a non-ACK SETTINGS and an ACK follows.
  const peer = await connect(t);
  t.equal(peer.received[0]?.type, FrameType.SETTINGS, 'first frame is SETTINGS');
  await peer.expectWorking();
});

void t.test('§3.4 an invalid client preface: the connection is closed', async (t) => {
  const { port } = await startTarget(t);
  const peer = await RawPeer.open(t, port, { preface: false, handshake: false, autoAck: false });
  peer.send(
    Buffer.from('PRI * HTTP/2.0\r\n\r\nXX\r\n\r\n', 'latin1'),
    encodeFrame(FrameType.SETTINGS, 0, 0),
  );
  await peer.expectConnectionClosed();
  t.same(
    goawayCodes(peer).filter((c) => c !== 'PROTOCOL_ERROR'),
    [],
    'a GOAWAY, if any, is PROTOCOL_ERROR',
  );
});

void t.test(
  '§3.4 an HTTP/1.1 request instead of the preface: the connection is closed',
  async (t) => {
    const { port } = await startTarget(t);
    const peer = await RawPeer.open(t, port, { preface: false, handshake: false, autoAck: false });
    peer.send(Buffer.from('GET / HTTP/1.1\r\nHost: localhost\r\n\r\n', 'latin1'));
    await peer.expectConnectionClosed();
    t.same(
      goawayCodes(peer).filter((c) => c !== 'PROTOCOL_ERROR'),
      [],
      'a GOAWAY, if any, is PROTOCOL_ERROR',
    );
  },
);

void t.test(
  '§3.4 a preface cut short then closed by the client: no crash, server still serves',
  async (t) => {
    const { port } = await startTarget(t);
    const half = await RawPeer.open(t, port, { preface: false, handshake: false, autoAck: false });
    half.send(PREFACE.subarray(0, 10));
    half.socket.end();
    await half.expectConnectionClosed();
    const peer = await RawPeer.open(t, port);
    await peer.expectWorking();
  },
);

void t.test(
  '§3.4/§6.5 the first frame after the preface is not SETTINGS: PROTOCOL_ERROR',
  async (t) => {
    const { port } = await startTarget(t);
    const peer = await RawPeer.open(t, port, { preface: false, handshake: false, autoAck: false });
    peer.send(PREFACE, encodeFrame(FrameType.PING, 0, 0, Buffer.alloc(8)));
    await peer.expectGoaway(ErrorCode.PROTOCOL_ERROR);
  },
);
