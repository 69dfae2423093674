/**
 * The decoder's literal cache: the same encoded octets give the same string
 * object; other octets, another Huffman flag or a longer literal never
 * return a kept string; and decoding through it agrees with a fresh decoder.
 */
import t from 'tap';
import { HpackDecoder } from '../../../src/h2/hpack/hpack-decoder.js';
import { HpackEncoder } from '../../../src/h2/hpack/hpack-encoder.js';
import {
  cachedLiteral,
  cacheLiteral,
  MAX_CACHED_OCTETS,
} from '../../../src/h2/hpack/literal-cache.js';

void t.test('found by its octets and Huffman flag only', (t) => {
  const octets = Buffer.from('xx/pkg.Service/Method', 'latin1');
  cacheLiteral(octets, 2, octets.length - 2, false, '/pkg.Service/Method');
  t.equal(cachedLiteral(Buffer.from('/pkg.Service/Method'), 0, 19, false), '/pkg.Service/Method');
  t.equal(
    cachedLiteral(Buffer.from('/pkg.Service/Method'), 0, 19, true),
    undefined,
    'flag differs',
  );
  t.equal(
    cachedLiteral(Buffer.from('/pkg.Service/Methoe'), 0, 19, false),
    undefined,
    'octet differs',
  );
  t.equal(cachedLiteral(Buffer.from('/pkg.Service/Metho'), 0, 18, false), undefined, 'shorter');
  const long = Buffer.alloc(MAX_CACHED_OCTETS + 1, 0x61);
  cacheLiteral(long, 0, long.length, false, 'a'.repeat(long.length));
  t.equal(cachedLiteral(long, 0, long.length, false), undefined, 'longer ones are not kept');
  t.end();
});

void t.test('a literal :path decodes to the same string object call after call', (t) => {
  // Without indexing, as nghttp2 sends :path: a literal in every block.
  const block = Buffer.concat([Buffer.from([0x04]), huffmanLiteral('/bench.Bench/Unary')]);
  const first = new HpackDecoder().decode(block);
  const second = new HpackDecoder().decode(block);
  t.same(first, [':path', '/bench.Bench/Unary']);
  t.same(second, first);
  t.ok(Object.is(first[1], second[1]), 'the kept string');
  t.end();
});

void t.test('many distinct literals: every block still decodes to its input', (t) => {
  const encoder = new HpackEncoder();
  const decoder = new HpackDecoder();
  let wrong = 0;
  for (let i = 0; i < 5000; i++) {
    const fields = [
      ':path',
      `/svc.S/M${String(i % 97)}?q=${String(i % 13)}`,
      'x-id',
      `v${String(i)}`,
    ];
    const decoded = decoder.decode(encoder.encode(fields));
    if (decoded.join('\n') !== fields.join('\n')) wrong++;
  }
  t.equal(wrong, 0);
  t.end();
});

/** `text` as a Huffman-coded string literal (length prefix included), from our encoder. */
function huffmanLiteral(text: string): Buffer {
  // A path without a query goes as a literal with incremental indexing,
  // name index 4: one octet (0x44), then the string literal.
  const block = new HpackEncoder().encode([':path', text]);
  if (block[0] !== 0x44 || ((block[1] ?? 0) & 0x80) === 0) throw new Error('not a Huffman literal');
  return block.subarray(1);
}
