/**
 * The Huffman code: codes derived from the Appendix B lengths equal the
 * appendix's codes (two symbols of every length), every octet round-trips,
 * lengths are right, and §5.2 decoding errors are caught: padding not all
 * ones, padding of 8 bits or more, EOS inside the string.
 */
import fc from 'fast-check';
import t from 'tap';
import { HpackError } from '../../../src/h2/hpack/hpack-error.js';
import {
  huffmanCode,
  huffmanDecode,
  huffmanDecodeInto,
  huffmanEncode,
  huffmanEncodedLength,
} from '../../../src/h2/hpack/huffman.js';

/** [symbol, code as hex in Appendix B, length] — two per code length. */
const APPENDIX_B_SAMPLES: readonly (readonly [number, number, number])[] = [
  [48, 0x0, 5],
  [116, 0x9, 5],
  [32, 0x14, 6],
  [95, 0x22, 6],
  [58, 0x5c, 7],
  [122, 0x7b, 7],
  [38, 0xf8, 8],
  [90, 0xfd, 8],
  [33, 0x3f8, 10],
  [63, 0x3fc, 10],
  [39, 0x7fa, 11],
  [124, 0x7fc, 11],
  [35, 0xffa, 12],
  [62, 0xffb, 12],
  [0, 0x1ff8, 13],
  [126, 0x1ffd, 13],
  [94, 0x3ffc, 14],
  [125, 0x3ffd, 14],
  [60, 0x7ffc, 15],
  [123, 0x7ffe, 15],
  [92, 0x7fff0, 19],
  [208, 0x7fff2, 19],
  [128, 0xfffe6, 20],
  [226, 0xfffed, 20],
  [153, 0x1fffdc, 21],
  [230, 0x1fffe8, 21],
  [129, 0x3fffd2, 22],
  [233, 0x3fffeb, 22],
  [1, 0x7fffd8, 23],
  [239, 0x7ffff4, 23],
  [9, 0xffffea, 24],
  [237, 0xfffff5, 24],
  [199, 0x1ffffec, 25],
  [235, 0x1ffffef, 25],
  [192, 0x3ffffe0, 26],
  [255, 0x3ffffee, 26],
  [203, 0x7ffffde, 27],
  [254, 0x7fffff0, 27],
  [2, 0xfffffe2, 28],
  [249, 0xffffffe, 28],
  [10, 0x3ffffffc, 30],
  [256, 0x3fffffff, 30],
];

const ALL_OCTETS = String.fromCharCode(...Array.from({ length: 256 }, (_, octet) => octet));

void t.test('derived codes match Appendix B', (t) => {
  for (const [symbol, code, bits] of APPENDIX_B_SAMPLES) {
    t.same(huffmanCode(symbol), { code, bits }, `symbol ${symbol}`);
  }
  t.end();
});

void t.test('every octet round-trips, alone and together', (t) => {
  for (let octet = 0; octet < 256; octet++) {
    const text = String.fromCharCode(octet);
    t.equal(huffmanDecode(huffmanEncode(text)), text);
  }
  t.equal(huffmanDecode(huffmanEncode(ALL_OCTETS)), ALL_OCTETS);
  t.equal(huffmanDecode(huffmanEncode('')), '');
  t.end();
});

void t.test('encoded length counts padding', (t) => {
  t.equal(huffmanEncodedLength('www.example.com'), 12);
  t.equal(huffmanEncodedLength('no-cache'), 6);
  t.equal(huffmanEncodedLength('a'), 1); // 5 bits + 3 padding
  t.equal(huffmanEncodedLength('aaaaa'), 4); // 25 bits + 7 padding
  t.equal(huffmanEncodedLength(''), 0);
  t.equal(huffmanEncode('aaaaa').length, 4);
  t.end();
});

void t.test('random latin1 strings round-trip', (t) => {
  const latin1 = fc.string({
    unit: fc.integer({ min: 0, max: 255 }).map((octet) => String.fromCharCode(octet)),
    maxLength: 200,
  });
  fc.assert(
    fc.property(latin1, (text) => {
      const encoded = huffmanEncode(text);
      return encoded.length === huffmanEncodedLength(text) && huffmanDecode(encoded) === text;
    }),
    { numRuns: 2000 },
  );
  t.end();
});

void t.test('§5.2 errors', (t) => {
  // "a" is 00011: 0x1f is "a" with 3 bits of one-padding.
  t.equal(huffmanDecode(Buffer.from([0x1f])), 'a');
  t.throws(() => huffmanDecode(Buffer.from([0x18])), HpackError, 'padding of zeros');
  t.throws(() => huffmanDecode(Buffer.from([0x1e])), HpackError, 'padding not all ones');
  t.throws(() => huffmanDecode(Buffer.from([0x1f, 0xff])), HpackError, 'padding of 11 bits');
  t.throws(() => huffmanDecode(Buffer.from([0xff])), HpackError, 'a string of padding only');
  t.throws(
    () => huffmanDecode(Buffer.from([0xff, 0xff, 0xff, 0xfc])),
    HpackError,
    'EOS (30 ones) in the string',
  );
  t.throws(
    () =>
      huffmanDecode(Buffer.concat([huffmanEncode('abc'), Buffer.from([0xff, 0xff, 0xff, 0xff])])),
    HpackError,
    'EOS after symbols',
  );
  t.end();
});

void t.test('decodeInto writes at most cap octets but returns the full length', (t) => {
  const encoded = huffmanEncode('www.example.com');
  const target = Buffer.alloc(4, 0);
  t.equal(huffmanDecodeInto(encoded, 0, encoded.length, target, 3), 15);
  t.equal(target.toString('latin1'), 'www\0');
  t.throws(() => huffmanDecodeInto(Buffer.from([0x18]), 0, 1, target, 0), HpackError);
  t.end();
});
