// The server role against a raw peer that misbehaves: flood limits (GOAWAY
// ENHANCE_YOUR_CALM + onAbuse), header list size (RST_STREAM ENHANCE_YOUR_CALM), stream limits
// (REFUSED_STREAM), and a sample of the stream and connection errors of
// RFC 9113 (the full conformance suite lives elsewhere).
import t, { type Test } from 'tap';
import {
  COMPRESSION_ERROR,
  ENHANCE_YOUR_CALM,
  FLAG_ACK,
  FLAG_END_HEADERS,
  FLAG_END_STREAM,
  FLAG_PADDED,
  FLOW_CONTROL_ERROR,
  FRAME_CONTINUATION,
  FRAME_DATA,
  FRAME_GOAWAY,
  FRAME_HEADERS,
  FRAME_PING,
  FRAME_PRIORITY,
  FRAME_RST_STREAM,
  FRAME_SETTINGS,
  FRAME_SIZE_ERROR,
  FRAME_WINDOW_UPDATE,
  NO_ERROR,
  PROTOCOL_ERROR,
  REFUSED_STREAM,
  STREAM_CLOSED,
} from '../../../src/h2/constants.js';
import type { AbuseKind, ConnectionOptions } from '../../../src/h2/h2-connection.js';
import type { H2Stream } from '../../../src/h2/h2-stream.js';
import { CLIENT_PREFACE } from '../../../src/h2/constants.js';
import { EchoHandler, startEngineServer } from './engine-helpers.js';
import { GET_REQUEST, RawPeer, frame, u32 } from './raw-peer.js';

async function setup(
  t: Test,
  options: Omit<ConnectionOptions, 'role'> = {},
): Promise<{ peer: RawPeer; abuses: AbuseKind[] }> {
  const abuses: AbuseKind[] = [];
  const server = await startEngineServer(
    { onStream: (stream) => new EchoHandler(stream), onAbuse: (kind) => abuses.push(kind) },
    options,
  );
  t.teardown(() => server.close());
  const peer = await RawPeer.connect(server.port);
  t.teardown(() => peer.close());
  return { peer, abuses };
}

void t.test('flood limits end the connection with ENHANCE_YOUR_CALM', async (t) => {
  const cases: [AbuseKind, (peer: RawPeer) => void][] = [
    [
      'ping_flood',
      (peer) => {
        for (let i = 0; i < 20; i++) peer.send(frame(FRAME_PING, 0, 0, Buffer.alloc(8)));
      },
    ],
    [
      'settings_flood',
      (peer) => {
        for (let i = 0; i < 20; i++) peer.send(frame(FRAME_SETTINGS, 0, 0));
      },
    ],
    [
      'rapid_reset',
      (peer) => {
        for (let id = 1; id < 50; id += 2) {
          peer.send(
            frame(FRAME_HEADERS, FLAG_END_HEADERS, id, peer.block(GET_REQUEST)),
            frame(FRAME_RST_STREAM, 0, id, u32(8)),
          );
        }
      },
    ],
    [
      'continuation_flood',
      (peer) => {
        const block = peer.block(GET_REQUEST);
        peer.send(frame(FRAME_HEADERS, 0, 1, block.subarray(0, 1)));
        for (let i = 0; i < 10; i++) peer.send(frame(FRAME_CONTINUATION, 0, 1, Buffer.alloc(0)));
      },
    ],
    [
      'empty_frames',
      (peer) => {
        peer.send(frame(FRAME_HEADERS, FLAG_END_HEADERS, 1, peer.block(GET_REQUEST)));
        for (let i = 0; i < 20; i++) peer.send(frame(FRAME_DATA, 0, 1));
      },
    ],
  ];
  for (const [kind, flood] of cases) {
    const { peer, abuses } = await setup(t, {
      limits: {
        maxPingsPerSecond: 10,
        maxSettingsPerSecond: 10,
        maxResetsPerSecond: 10,
        maxContinuations: 5,
        maxEmptyFrames: 10,
      },
    });
    flood(peer);
    t.equal(await peer.goawayCode(), ENHANCE_YOUR_CALM, kind);
    t.same(abuses, [kind]);
    await peer.waitFor(() => false);
    t.ok(peer.closed, `${kind}: connection closed`);
  }
});

void t.test(
  'a header list over MAX_HEADER_LIST_SIZE is refused with ENHANCE_YOUR_CALM',
  async (t) => {
    const { peer } = await setup(t, { settings: { maxHeaderListSize: 1000 } });
    peer.send(
      frame(
        FRAME_HEADERS,
        FLAG_END_HEADERS | FLAG_END_STREAM,
        1,
        peer.block([...GET_REQUEST, 'x-big', 'v'.repeat(2000)]),
      ),
    );
    t.equal(await peer.rstCode(1), ENHANCE_YOUR_CALM);
    // The connection still works (the HPACK state stayed in sync).
    peer.send(frame(FRAME_HEADERS, FLAG_END_HEADERS | FLAG_END_STREAM, 3, peer.block(GET_REQUEST)));
    t.ok(await peer.waitFor((f) => f.type === FRAME_HEADERS && f.streamId === 3));
  },
);

void t.test('streams over MAX_CONCURRENT_STREAMS are refused', async (t) => {
  const { peer } = await setup(t, { settings: { maxConcurrentStreams: 2 } });
  for (const id of [1, 3, 5]) {
    peer.send(frame(FRAME_HEADERS, FLAG_END_HEADERS, id, peer.block(GET_REQUEST)));
  }
  t.equal(await peer.rstCode(5), REFUSED_STREAM);
});

void t.test('stream errors: RST_STREAM with the RFC 9113 code', async (t) => {
  const { peer } = await setup(t);
  const bad: [string, string[]][] = [
    ['uppercase name', [...GET_REQUEST, 'X-Upper', '1']],
    ['connection header', [...GET_REQUEST, 'connection', 'close']],
    ['te other than trailers', [...GET_REQUEST, 'te', 'gzip']],
    ['missing :path', GET_REQUEST.slice(0, 4)],
    ['pseudo after regular', ['x-a', '1', ...GET_REQUEST]],
    ['response pseudo in a request', [...GET_REQUEST.slice(0, 8), ':status', '200']],
  ];
  let id = 1;
  for (const [what, fields] of bad) {
    peer.send(frame(FRAME_HEADERS, FLAG_END_HEADERS | FLAG_END_STREAM, id, peer.block(fields)));
    t.equal(await peer.rstCode(id), PROTOCOL_ERROR, what);
    id += 2;
  }
  // DATA on a half-closed (remote) stream.
  peer.send(frame(FRAME_HEADERS, FLAG_END_HEADERS | FLAG_END_STREAM, id, peer.block(GET_REQUEST)));
  peer.send(frame(FRAME_DATA, 0, id, Buffer.from('late')));
  t.equal(await peer.rstCode(id), STREAM_CLOSED, 'DATA after END_STREAM');
  id += 2;
  // content-length larger than the DATA.
  peer.send(
    frame(
      FRAME_HEADERS,
      FLAG_END_HEADERS,
      id,
      peer.block([...GET_REQUEST, 'content-length', '10']),
    ),
    frame(FRAME_DATA, FLAG_END_STREAM, id, Buffer.from('short')),
  );
  t.equal(await peer.rstCode(id), PROTOCOL_ERROR, 'content-length mismatch');
  id += 2;
  // WINDOW_UPDATE of 0 on a stream; PRIORITY of the wrong length.
  peer.send(frame(FRAME_HEADERS, FLAG_END_HEADERS, id, peer.block(GET_REQUEST)));
  peer.send(frame(FRAME_WINDOW_UPDATE, 0, id, u32(0)));
  t.equal(await peer.rstCode(id), PROTOCOL_ERROR, 'WINDOW_UPDATE of 0');
  peer.send(frame(FRAME_PRIORITY, 0, id + 2, Buffer.alloc(4)));
  t.equal(await peer.rstCode(id + 2), FRAME_SIZE_ERROR, 'PRIORITY length');
  // Trailers with a pseudo-header.
  id += 4;
  peer.send(frame(FRAME_HEADERS, FLAG_END_HEADERS, id, peer.block(GET_REQUEST)));
  peer.send(
    frame(FRAME_HEADERS, FLAG_END_HEADERS | FLAG_END_STREAM, id, peer.block([':path', '/'])),
  );
  t.equal(await peer.rstCode(id), PROTOCOL_ERROR, 'pseudo-header in trailers');
  t.notOk(peer.closed, 'the connection survives stream errors');
  // A PING still works.
  peer.send(frame(FRAME_PING, 0, 0, Buffer.from('12345678')));
  const ack = await peer.waitFor((f) => f.type === FRAME_PING && (f.flags & FLAG_ACK) !== 0);
  t.equal(ack?.payload.toString(), '12345678');
});

void t.test('connection errors: GOAWAY with the RFC 9113 code', async (t) => {
  const cases: [string, number, (peer: RawPeer) => void][] = [
    ['DATA on stream 0', PROTOCOL_ERROR, (p) => p.send(frame(FRAME_DATA, 0, 0, Buffer.from('x')))],
    [
      'even stream id',
      PROTOCOL_ERROR,
      (p) => p.send(frame(FRAME_HEADERS, FLAG_END_HEADERS, 2, p.block(GET_REQUEST))),
    ],
    [
      'frame above MAX_FRAME_SIZE',
      FRAME_SIZE_ERROR,
      (p) => p.send(frame(FRAME_DATA, 0, 1, Buffer.alloc(16385))),
    ],
    [
      'WINDOW_UPDATE of 0 on the connection',
      PROTOCOL_ERROR,
      (p) => p.send(frame(FRAME_WINDOW_UPDATE, 0, 0, u32(0))),
    ],
    [
      'connection window overflow',
      FLOW_CONTROL_ERROR,
      (p) => p.send(frame(FRAME_WINDOW_UPDATE, 0, 0, u32(0x7fffffff))),
    ],
    [
      'bad padding',
      PROTOCOL_ERROR,
      (p) => {
        p.send(frame(FRAME_HEADERS, FLAG_END_HEADERS, 1, p.block(GET_REQUEST)));
        p.send(frame(FRAME_DATA, FLAG_PADDED, 1, Buffer.from([5, 1, 2])));
      },
    ],
    [
      'frame inside a header block',
      PROTOCOL_ERROR,
      (p) => {
        p.send(
          frame(FRAME_HEADERS, 0, 1, p.block(GET_REQUEST)),
          frame(FRAME_PING, 0, 0, Buffer.alloc(8)),
        );
      },
    ],
    [
      'garbage header block',
      COMPRESSION_ERROR,
      (p) =>
        p.send(frame(FRAME_HEADERS, FLAG_END_HEADERS, 1, Buffer.from([0xff, 0xff, 0xff, 0xff]))),
    ],
    [
      'DATA on an idle stream',
      PROTOCOL_ERROR,
      (p) => p.send(frame(FRAME_DATA, 0, 7, Buffer.from('x'))),
    ],
    [
      'a lower stream id than one used',
      PROTOCOL_ERROR,
      (p) => {
        p.send(frame(FRAME_HEADERS, FLAG_END_HEADERS, 5, p.block(GET_REQUEST)));
        p.send(frame(FRAME_HEADERS, FLAG_END_HEADERS, 3, p.block(GET_REQUEST)));
      },
    ],
    [
      'SETTINGS_INITIAL_WINDOW_SIZE above 2^31-1',
      FLOW_CONTROL_ERROR,
      (p) => {
        const payload = Buffer.alloc(6);
        payload.writeUInt16BE(4, 0);
        payload.writeUInt32BE(0x80000000, 2);
        p.send(frame(FRAME_SETTINGS, 0, 0, payload));
      },
    ],
  ];
  for (const [what, code, act] of cases) {
    const { peer } = await setup(t);
    act(peer);
    t.equal(await peer.goawayCode(), code, what);
  }
});

void t.test('a bad preface is a connection error', async (t) => {
  const server = await startEngineServer({});
  t.teardown(() => server.close());
  const net = await import('node:net');
  const socket = net.connect(server.port, '127.0.0.1');
  socket.on('error', () => undefined);
  const chunks: Buffer[] = [];
  socket.on('data', (c: Buffer) => chunks.push(c));
  socket.write(Buffer.from(CLIENT_PREFACE.toString('latin1').replace('2.0', '1.1'), 'latin1'));
  await new Promise((resolve) => socket.on('close', resolve));
  const all = Buffer.concat(chunks);
  // Our SETTINGS, then GOAWAY(PROTOCOL_ERROR).
  const goaway = all.indexOf(Buffer.from([0x07, 0x00, 0x00, 0x00, 0x00, 0x00]));
  t.ok(goaway > 0, 'GOAWAY sent');
  // type, flags, stream id (6 bytes), last-stream-id (4), then the code.
  t.equal(all.readUInt32BE(goaway + 10), PROTOCOL_ERROR);
});

void t.test('unknown frame types are ignored', async (t) => {
  const { peer } = await setup(t);
  peer.send(frame(0xfa, 0xff, 1, Buffer.from('whatever')), frame(0xfb, 0, 0));
  peer.send(frame(FRAME_PING, 0, 0, Buffer.from('abcdefgh')));
  const ack = await peer.waitFor((f) => f.type === FRAME_PING && (f.flags & FLAG_ACK) !== 0);
  t.equal(ack?.payload.toString(), 'abcdefgh');
});

void t.test('goaway(code, lastStreamId): peer streams above it close as refused', async (t) => {
  const closes = new Map<number, [number, string]>();
  const streams: H2Stream[] = [];
  let both!: () => void;
  const bothP = new Promise<void>((r) => (both = r));
  const server = await startEngineServer({
    onStream(stream) {
      streams.push(stream);
      stream.handler = {
        onHeaders: () => undefined,
        onData: () => undefined,
        onWritable: () => undefined,
        onClose: (code, reason) => closes.set(stream.id, [code, reason]),
      };
      if (streams.length === 2) both();
    },
  });
  t.teardown(() => server.close());
  const peer = await RawPeer.connect(server.port);
  t.teardown(() => peer.close());
  peer.send(frame(FRAME_HEADERS, FLAG_END_HEADERS, 1, peer.block(GET_REQUEST)));
  peer.send(frame(FRAME_HEADERS, FLAG_END_HEADERS, 3, peer.block(GET_REQUEST)));
  await bothP;
  const connection = streams[0]?.connection;
  connection?.goaway(NO_ERROR, 1);
  t.same(closes.get(3), [REFUSED_STREAM, 'refused']);
  t.equal(closes.has(1), false, 'stream 1 goes on');
  t.equal(connection?.acceptingStreams, false);
  const goaway = await peer.waitFor((f) => f.type === FRAME_GOAWAY);
  t.equal(goaway?.payload.readUInt32BE(0), 1);
  // A new stream after our GOAWAY is refused.
  peer.send(frame(FRAME_HEADERS, FLAG_END_HEADERS, 5, peer.block(GET_REQUEST)));
  t.equal(await peer.rstCode(5), REFUSED_STREAM);
  streams[0]?.sendHeaders([':status', '200'], true);
  t.ok(await peer.waitFor((f) => f.type === FRAME_HEADERS && f.streamId === 1));
});
