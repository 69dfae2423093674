/**
 * HpackDecoder on malformed and hostile input: every RFC 7541 error is an
 * HpackError (COMPRESSION_ERROR), and a header list over the limit is cut
 * (oversize = true) while the dynamic table stays in step for later blocks.
 * Random bytes never raise anything but HpackError.
 */
import fc from 'fast-check';
import t, { type Test } from 'tap';
import { HpackDecoder } from '../../../src/h2/hpack/hpack-decoder.js';
import { HpackEncoder } from '../../../src/h2/hpack/hpack-encoder.js';
import { COMPRESSION_ERROR_CODE, HpackError } from '../../../src/h2/hpack/hpack-error.js';
import { huffmanEncode } from '../../../src/h2/hpack/huffman.js';
import { dynamicEntries, hex } from './hpack-helpers.js';

/** Literal with incremental indexing, literal name, raw strings. */
function indexedLiteral(name: string, value: string): Buffer {
  return Buffer.concat([
    Buffer.from([0x40, name.length]),
    Buffer.from(name, 'latin1'),
    stringLength(value.length),
    Buffer.from(value, 'latin1'),
  ]);
}

/** §5.1 7-bit-prefix string length, with or without the Huffman flag. */
function stringLength(length: number, huffman = false): Buffer {
  const flag = huffman ? 0x80 : 0;
  if (length < 127) return Buffer.from([flag | length]);
  const octets = [flag | 127];
  let rest = length - 127;
  while (rest >= 128) {
    octets.push((rest & 0x7f) | 0x80);
    rest >>>= 7;
  }
  octets.push(rest);
  return Buffer.from(octets);
}

function rejects(t: Test, block: Buffer, why: string, decoder = new HpackDecoder()): void {
  t.throws(() => decoder.decode(block), HpackError, why);
}

void t.test('HpackError carries COMPRESSION_ERROR', (t) => {
  const error = new HpackError('x');
  t.equal(error.errorCode, COMPRESSION_ERROR_CODE);
  t.equal(error.errorCode, 0x9);
  t.end();
});

void t.test('integers', (t) => {
  rejects(t, hex('ff'), 'truncated: prefix full, no continuation');
  rejects(t, hex('ff 80'), 'truncated: continuation flag on the last octet');
  rejects(t, hex('7f'), 'truncated literal name index');
  rejects(t, hex('ff ff ff ff ff 0f'), 'over 2^32');
  rejects(t, hex('ff 80 80 80 80 80 01'), 'too many continuation octets');
  rejects(t, hex('3f ff ff ff ff ff ff ff 7f'), 'huge table size update');
  t.end();
});

void t.test('indices', (t) => {
  rejects(t, hex('80'), 'indexed field 0');
  rejects(t, hex('be'), 'dynamic index 62 with an empty table');
  rejects(t, hex('ff 80 01'), 'index 255');
  rejects(t, hex('7f 00 03 616263'), 'literal name index 63 out of range');
  const decoder = new HpackDecoder();
  decoder.decode(indexedLiteral('k', 'v'));
  t.same(decoder.decode(hex('be')), ['k', 'v']);
  rejects(t, hex('bf'), 'one past the table', decoder);
  t.end();
});

void t.test('strings', (t) => {
  rejects(t, hex('40 05 61'), 'name runs past the block');
  rejects(t, hex('40 01 61'), 'block ends before the value');
  rejects(t, hex('04 81 18'), 'Huffman value with zero padding');
  rejects(t, hex('04 84 ff ff ff fc'), 'Huffman value containing EOS');
  rejects(t, hex('04 82 1f ff'), 'Huffman value with 11 bits of padding');
  t.end();
});

void t.test('dynamic table size updates', (t) => {
  const decoder = new HpackDecoder(4096);
  rejects(t, hex('3f e2 1f'), 'update to 4097 above our 4096', decoder);
  t.same(new HpackDecoder(4096).decode(hex('3f e1 1f 82')), [':method', 'GET']);
  rejects(t, hex('82 20'), 'update after a field');
  t.same(new HpackDecoder().decode(hex('20 3f e1 1f')), [], 'two updates at the start');

  const lowered = new HpackDecoder(4096);
  lowered.decode(indexedLiteral('k', 'v'));
  lowered.setMaxTableSize(100);
  rejects(t, hex('82'), 'no update after we lowered the limit', lowered);
  const accepted = new HpackDecoder(4096);
  accepted.decode(indexedLiteral('k', 'v'));
  accepted.setMaxTableSize(100);
  t.same(accepted.decode(hex('3f 45 82')), [':method', 'GET'], 'update to 100 first');
  t.equal(accepted.tableMaxSize, 100);
  t.same(dynamicEntries(accepted), ['k', 'v']);
  t.same(accepted.decode(hex('20')), []);
  t.equal(accepted.tableSize, 0, 'update to 0 empties the table');
  const raised = new HpackDecoder(4096);
  raised.setMaxTableSize(8192);
  t.same(raised.decode(hex('82')), [':method', 'GET'], 'raising needs no update');
  t.end();
});

void t.test('oversize list: cut, flagged, table still in sync', (t) => {
  const decoder = new HpackDecoder(4096, 100);
  const big = 'x'.repeat(100);
  const block = Buffer.concat([hex('82'), indexedLiteral('a', big), indexedLiteral('k', 'v')]);
  t.same(decoder.decode(block), [':method', 'GET']);
  t.equal(decoder.oversize, true);
  t.same(dynamicEntries(decoder), ['k', 'v', 'a', big], 'both literals were still indexed');
  t.same(decoder.decode(hex('be')), ['k', 'v']);
  t.equal(decoder.oversize, false, 'the flag is per block');
  t.same(decoder.decode(hex('bf')), []);
  t.equal(decoder.oversize, true);
  decoder.setMaxHeaderListSize(1000);
  t.same(decoder.decode(hex('bf')), ['a', big]);
  t.equal(decoder.oversize, false);
  t.end();
});

void t.test('HPACK bombs stay within the list limit', (t) => {
  // One 4000-octet entry referenced 1000 times: 4 MB of headers from 4 KB.
  const decoder = new HpackDecoder(4096, 16 * 1024);
  const entry = indexedLiteral('bomb', 'b'.repeat(4000));
  const references = Buffer.alloc(1000, 0xbe);
  const out = decoder.decode(Buffer.concat([entry, references]));
  t.equal(decoder.oversize, true);
  t.ok(out.length <= 8, `kept ${out.length / 2} fields`);

  // Huge literals, not indexed: cut without being turned into strings.
  const small = new HpackDecoder(4096, 200);
  const huffmanValue = huffmanEncode('0'.repeat(5000));
  const huffmanLiteral = Buffer.concat([
    hex('04'),
    stringLength(huffmanValue.length, true),
    huffmanValue,
  ]);
  t.same(small.decode(huffmanLiteral), []);
  t.equal(small.oversize, true);
  const rawLiteral = Buffer.concat([hex('04'), stringLength(100_000), Buffer.alloc(100_000, 0x61)]);
  t.same(small.decode(Buffer.concat([rawLiteral, hex('82')])), []);
  t.equal(small.oversize, true);
  t.end();
});

void t.test('a Huffman literal over the limit is validated but not kept', (t) => {
  const encoder = new HpackEncoder();
  const block = encoder.encode([':path', '/' + 'p'.repeat(3000), 'k', 'v']);
  const decoder = new HpackDecoder(4096, 500);
  t.same(decoder.decode(block), []);
  t.equal(decoder.oversize, true);
  t.same(dynamicEntries(decoder), ['k', 'v']);
  t.end();
});

void t.test('random input only ever throws HpackError', (t) => {
  fc.assert(
    fc.property(fc.uint8Array({ maxLength: 64 }), (bytes) => {
      const decoder = new HpackDecoder(4096, 1000);
      try {
        decoder.decode(bytes);
        decoder.decode(bytes);
      } catch (error) {
        if (!(error instanceof HpackError)) throw error;
      }
    }),
    { numRuns: 5000 },
  );
  t.end();
});
