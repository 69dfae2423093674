/**
 * Randomised round trips: one encoder and one decoder, as on a connection,
 * through many blocks of random fields (names from a pool that hits static,
 * never-indexed and unindexed names, plus random ones; random latin1
 * values), with random table size changes between blocks. Every block
 * decodes to its input and both tables always have the same size.
 */
import fc from 'fast-check';
import t from 'tap';
import { HpackDecoder } from '../../../src/h2/hpack/hpack-decoder.js';
import { HpackEncoder } from '../../../src/h2/hpack/hpack-encoder.js';

const NAME_POOL = [
  ':method',
  ':path',
  ':status',
  ':authority',
  'content-type',
  'grpc-timeout',
  'grpc-status',
  'grpc-message',
  'authorization',
  'cookie',
  'set-cookie',
  'user-agent',
  'x-custom',
  'x-other',
];
const VALUE_POOL = ['', 'GET', 'POST', '/', '200', 'application/grpc', '0', 'x'];

const latin1 = (maxLength: number): fc.Arbitrary<string> =>
  fc.string({
    unit: fc.integer({ min: 0, max: 255 }).map((octet) => String.fromCharCode(octet)),
    maxLength,
  });

const name = fc.oneof(
  { weight: 4, arbitrary: fc.constantFrom(...NAME_POOL) },
  { weight: 1, arbitrary: fc.stringMatching(/^[a-z][a-z0-9-]{0,20}$/) },
);
const value = fc.oneof(
  { weight: 2, arbitrary: fc.constantFrom(...VALUE_POOL) },
  { weight: 3, arbitrary: latin1(40) },
  { weight: 1, arbitrary: latin1(300) },
);
const block = fc.array(fc.tuple(name, value), { maxLength: 12 }).map((pairs) => pairs.flat());

type Step =
  | { readonly kind: 'block'; readonly fields: string[] }
  | { readonly kind: 'resize'; readonly size: number };

const step: fc.Arbitrary<Step> = fc.oneof(
  { weight: 6, arbitrary: block.map((fields) => ({ kind: 'block' as const, fields })) },
  {
    weight: 1,
    arbitrary: fc
      .constantFrom(0, 64, 256, 1000, 4096, 8192)
      .map((size) => ({ kind: 'resize' as const, size })),
  },
);

/**
 * Runs `steps` through one encoder/decoder pair: true when every block
 * decodes to its input and both tables always have the same size.
 */
function roundTrips(steps: readonly Step[]): boolean {
  const encoder = new HpackEncoder();
  const decoder = new HpackDecoder();
  for (const current of steps) {
    if (current.kind === 'resize') {
      // Our setting (decoder) and the peer's view of it (encoder) change together.
      decoder.setMaxTableSize(current.size);
      encoder.setMaxTableSize(current.size);
      continue;
    }
    const decoded = decoder.decode(encoder.encode(current.fields));
    if (decoded.length !== current.fields.length) return false;
    for (let i = 0; i < decoded.length; i++) {
      if (decoded[i] !== current.fields[i]) return false;
    }
    if (encoder.tableSize !== decoder.tableSize) return false;
  }
  return true;
}

void t.test('one encoder/decoder pair over many blocks and size changes', (t) => {
  fc.assert(fc.property(fc.array(step, { minLength: 1, maxLength: 40 }), roundTrips), {
    numRuns: 500,
  });
  t.end();
});

void t.test('a list limit never desynchronises the tables', (t) => {
  fc.assert(
    fc.property(
      fc.array(block, { minLength: 1, maxLength: 30 }),
      fc.integer({ min: 0, max: 600 }),
      (blocks, limit) => {
        const encoder = new HpackEncoder();
        const limited = new HpackDecoder(4096, limit);
        const unlimited = new HpackDecoder();
        for (const fields of blocks) {
          const encoded = encoder.encode(fields);
          const all = unlimited.decode(encoded);
          const kept = limited.decode(encoded);
          let size = 0;
          for (let i = 0; i < all.length; i += 2) {
            size += (all[i] ?? '').length + (all[i + 1] ?? '').length + 32;
          }
          if (limited.oversize !== size > limit) return false;
          if (!limited.oversize && kept.length !== all.length) return false;
          for (let i = 0; i < kept.length; i++) if (kept[i] !== all[i]) return false;
          if (limited.tableSize !== unlimited.tableSize) return false;
        }
        return true;
      },
    ),
    { numRuns: 300 },
  );
  t.end();
});

/**
 * Blocks that repeat, as on a real connection (the same kinds of head and
 * trailers over and over, with a per-call field or two), mixed with random
 * blocks and size changes: the encoder's per-position cache of indexed
 * fields (hpack-encoder.ts) is hit, invalidated by every table change, and
 * must never send an index the decoder's table no longer has.
 */
const TEMPLATES: readonly (readonly string[])[] = [
  [
    ':method',
    'POST',
    ':scheme',
    'http',
    ':path',
    '/pkg.Svc/Call',
    ':authority',
    'backend',
    'content-type',
    'application/grpc',
    'te',
    'trailers',
  ],
  [':status', '200', 'content-type', 'application/grpc', 'x-custom', 'x'],
  ['grpc-status', '0', 'grpc-message', ''],
  ['grpc-status', '14', 'grpc-message', 'unavailable', 'x-other', 'GET'],
];
const repeating = fc.oneof(
  {
    weight: 6,
    arbitrary: fc
      .tuple(fc.constantFrom(...TEMPLATES), fc.option(fc.tuple(name, value), { nil: undefined }))
      .map(([template, extra]) => ({
        kind: 'block' as const,
        fields: extra === undefined ? [...template] : [...template, ...extra],
      })),
  },
  { weight: 2, arbitrary: step },
);

void t.test(
  'repeating blocks between random blocks and size changes decode to their input',
  (t) => {
    fc.assert(fc.property(fc.array(repeating, { minLength: 1, maxLength: 60 }), roundTrips), {
      numRuns: 1000,
    });
    t.end();
  },
);

void t.test('a repeated head is sent as indices, the same octets each time', (t) => {
  const encoder = new HpackEncoder();
  const head = [...(TEMPLATES[0] ?? [])];
  encoder.encode(head);
  const second = Buffer.from(encoder.encode(head));
  const third = Buffer.from(encoder.encode(head));
  t.equal(second.length, head.length / 2, 'one octet per field');
  t.same(third, second);
  t.end();
});
