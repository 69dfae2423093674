// FrameReader on its own: the same frames whatever the chunking (every split
// point, byte-by-byte, random), payloads as slices of the chunk when a frame
// fits in one, the preface check, and FRAME_SIZE_ERROR before buffering.
import t from 'tap';
import { CLIENT_PREFACE, FRAME_SIZE_ERROR, PROTOCOL_ERROR } from '../../../src/h2/constants.js';
import { FrameReader } from '../../../src/h2/frame-reader.js';
import { H2ConnectionError } from '../../../src/h2/h2-error.js';
import { patternBytes } from './engine-helpers.js';
import { frame } from './raw-peer.js';

interface Seen {
  type: number;
  flags: number;
  streamId: number;
  payload: string;
}

function reader(
  maxFrameSize = 16384,
  preface = false,
): { r: FrameReader; seen: Seen[]; payloads: Buffer[] } {
  const seen: Seen[] = [];
  const payloads: Buffer[] = [];
  const r = new FrameReader(
    {
      onFrame(type, flags, streamId, buffer, start, end) {
        const payload = buffer.subarray(start, end);
        payloads.push(payload);
        seen.push({ type, flags, streamId, payload: payload.toString('hex') });
      },
    },
    maxFrameSize,
    preface,
  );
  return { r, seen, payloads };
}

const frames = [
  frame(0, 1, 1, Buffer.from('hello')),
  frame(1, 4, 3, patternBytes(300, 2)),
  frame(4, 0, 0),
  frame(0, 0, 0x7fffffff, patternBytes(16384, 3)),
  frame(8, 0, 5, Buffer.from([0, 0, 1, 0])),
];
const wire = Buffer.concat([CLIENT_PREFACE, ...frames]);
const expected: Seen[] = frames.map((f) => ({
  type: f[3] ?? -1,
  flags: f[4] ?? -1,
  streamId: f.readUInt32BE(5) & 0x7fffffff,
  payload: f.subarray(9).toString('hex'),
}));

void t.test('same frames for every single split point', (t) => {
  for (let split = 0; split <= wire.length; split += 7) {
    const { r, seen } = reader(16384, true);
    r.push(wire.subarray(0, split));
    r.push(wire.subarray(split));
    if (JSON.stringify(seen) !== JSON.stringify(expected)) t.fail(`split at ${split}`);
  }
  t.pass('all split points');
  t.end();
});

void t.test('byte by byte, and random chunks', (t) => {
  const { r, seen } = reader(16384, true);
  for (let i = 0; i < wire.length; i++) r.push(wire.subarray(i, i + 1));
  t.same(seen, expected);
  let seed = 12345;
  for (let round = 0; round < 50; round++) {
    const { r: r2, seen: seen2 } = reader(16384, true);
    let off = 0;
    while (off < wire.length) {
      seed = (seed * 1103515245 + 12345) & 0x7fffffff;
      const n = 1 + (seed % 5000);
      r2.push(wire.subarray(off, off + n));
      off += n;
    }
    if (JSON.stringify(seen2) !== JSON.stringify(expected)) t.fail(`random round ${round}`);
  }
  t.end();
});

void t.test('a frame within one chunk is a slice of it (no copy)', (t) => {
  const { r, payloads } = reader();
  const chunk = Buffer.concat([frame(0, 0, 1, Buffer.from('abc'))]);
  r.push(chunk);
  t.equal(payloads[0]?.buffer, chunk.buffer);
  t.equal(payloads[0]?.byteOffset, chunk.byteOffset + 9);
  t.end();
});

function thrown(fn: () => void): unknown {
  try {
    fn();
  } catch (error) {
    return error;
  }
  return undefined;
}

void t.test('a bad preface and an oversize frame are connection errors', (t) => {
  const { r } = reader(16384, true);
  const e1 = thrown(() => r.push(Buffer.from('GET / HTTP/1.1\r\n')));
  t.ok(e1 instanceof H2ConnectionError && e1.code === PROTOCOL_ERROR, 'bad preface');
  const { r: r2, seen } = reader(16384);
  const big = frame(0, 0, 1, Buffer.alloc(16385));
  const e2 = thrown(() => r2.push(big.subarray(0, 9)));
  t.ok(
    e2 instanceof H2ConnectionError && e2.code === FRAME_SIZE_ERROR,
    'thrown on the header alone',
  );
  t.equal(seen.length, 0);
  t.ok(r2.stopped);
  t.end();
});
