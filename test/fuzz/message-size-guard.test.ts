/**
 * Fuzzing the gRPC message framer (MessageSizeGuard): any chunking of a
 * stream of framed messages gives the same verdict as one chunk, and any
 * bytes at all give undefined or an announced length over the limit.
 */
import fc from 'fast-check';
import t from 'tap';
import { MessageSizeGuard } from '../../src/grpc/message-size-guard.js';
import { fuzzParameters } from './runs.js';

function framed(lengths: readonly number[], compressed: readonly boolean[]): Buffer {
  return Buffer.concat(
    lengths.map((length, i) => {
      const frame = Buffer.alloc(5 + length, 0x61);
      frame[0] = compressed[i] === true ? 1 : 0;
      frame.writeUInt32BE(length, 1);
      return frame;
    }),
  );
}

/** The guard's verdict over `bytes` cut at `cuts` (offsets, any order, repeats allowed). */
function verdict(limit: number, bytes: Buffer, cuts: readonly number[]): number | undefined {
  const guard = new MessageSizeGuard(limit);
  const points = [...new Set(cuts.map((c) => c % (bytes.length + 1)))].sort((a, b) => a - b);
  let start = 0;
  for (const end of [...points, bytes.length]) {
    const found = guard.check(bytes.subarray(start, end));
    if (found !== undefined) return found;
    start = end;
  }
  return undefined;
}

void t.test('any chunking gives the one-chunk verdict', (t) => {
  fc.assert(
    fc.property(
      fc.array(fc.integer({ min: 0, max: 300 }), { maxLength: 20 }),
      fc.array(fc.boolean(), { maxLength: 20 }),
      fc.integer({ min: 0, max: 310 }),
      fc.array(fc.nat(), { maxLength: 30 }),
      (lengths, compressed, limit, cuts) => {
        const bytes = framed(lengths, compressed);
        const whole = verdict(limit, bytes, []);
        const expected = lengths.find((length) => length > limit);
        return whole === expected && verdict(limit, bytes, cuts) === whole;
      },
    ),
    fuzzParameters(),
  );
  t.end();
});

void t.test('any bytes: undefined or a length over the limit, never a throw', (t) => {
  fc.assert(
    fc.property(
      fc.uint8Array({ maxLength: 2_000 }),
      fc.integer({ min: 0, max: 2 ** 32 }),
      fc.array(fc.nat(), { maxLength: 30 }),
      (raw, limit, cuts) => {
        const found = verdict(limit, Buffer.from(raw), cuts);
        return (
          found === undefined ||
          (Number.isInteger(found) && found > limit && found <= 2 ** 32 - 1) ||
          false
        );
      },
    ),
    fuzzParameters(),
  );
  t.end();
});
