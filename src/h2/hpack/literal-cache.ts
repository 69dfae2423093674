/**
 * Strings of recently decoded HPACK string literals (§5.2), found again by
 * their encoded octets. gRPC clients on nghttp2 (grpc-js via node:http2,
 * h2load, the C core) never index `:path`: every call sends its method's
 * path as a Huffman-coded literal. Found here, the same octets give the same
 * string object without Huffman decoding or a new string, and the proxy's
 * maps keyed by the path (route table, metrics labels, access-log parts)
 * find it with the hash it already carries.
 *
 * One cache for every connection: a literal's string depends on its octets
 * alone (the Huffman flag included), and clients of one proxy send the
 * same few paths. Direct-mapped, SLOTS entries of at most
 * MAX_CACHED_OCTETS octets: a miss costs a few octets compared and the
 * literal copied in.
 */
const SLOT_BITS = 6;
const SLOTS = 1 << SLOT_BITS;
/** Longer literals are not kept (paths of gRPC methods are shorter). */
export const MAX_CACHED_OCTETS = 64;

const octets = new Uint8Array(SLOTS * MAX_CACHED_OCTETS);
/** Encoded length + 1 with the Huffman flag in bit 8 (0: empty slot). */
const keys = new Int32Array(SLOTS);
const strings = new Array<string>(SLOTS).fill('');

function slotOf(block: Uint8Array, start: number, length: number, key: number): number {
  const last = block[start + length - 1] ?? 0;
  const middle = block[start + (length >> 1)] ?? 0;
  const first = block[start] ?? 0;
  // Fibonacci hashing: the product's top SLOT_BITS bits.
  return (
    Math.imul(key ^ (first << 8) ^ (middle << 16) ^ (last << 4), 0x9e3779b1) >>> (32 - SLOT_BITS)
  );
}

function keyOf(length: number, huffman: boolean): number {
  return (length + 1) | (huffman ? 0x100 : 0);
}

/** The string once decoded from `block[start, start + length)`, if still kept. */
export function cachedLiteral(
  block: Uint8Array,
  start: number,
  length: number,
  huffman: boolean,
): string | undefined {
  if (length === 0 || length > MAX_CACHED_OCTETS) return undefined;
  const key = keyOf(length, huffman);
  const slot = slotOf(block, start, length, key);
  if (keys[slot] !== key) return undefined;
  const base = slot * MAX_CACHED_OCTETS;
  for (let i = 0; i < length; i++) {
    if (octets[base + i] !== block[start + i]) return undefined;
  }
  return strings[slot];
}

/** Keeps `value` as what `block[start, start + length)` decodes to. */
export function cacheLiteral(
  block: Uint8Array,
  start: number,
  length: number,
  huffman: boolean,
  value: string,
): void {
  if (length === 0 || length > MAX_CACHED_OCTETS) return;
  const key = keyOf(length, huffman);
  const slot = slotOf(block, start, length, key);
  const base = slot * MAX_CACHED_OCTETS;
  for (let i = 0; i < length; i++) octets[base + i] = block[start + i] ?? 0;
  keys[slot] = key;
  strings[slot] = value;
}
