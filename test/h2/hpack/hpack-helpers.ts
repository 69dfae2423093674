/**
 * Helpers shared by the HPACK tests: RFC-style hex dumps to bytes, and a
 * view of a decoder's dynamic table taken by decoding indexed references
 * (which never change the table), with the list size limit lifted meanwhile.
 */
import type { HpackDecoder } from '../../../src/h2/hpack/hpack-decoder.js';
import { HpackError } from '../../../src/h2/hpack/hpack-error.js';

/** "8286 8441" (spaces and newlines ignored) → bytes. */
export function hex(dump: string): Buffer {
  return Buffer.from(dump.replace(/\s+/g, ''), 'hex');
}

/** Pairs [[name, value], ...] → flat [name, value, ...]. */
export function flat(pairs: readonly (readonly [string, string])[]): string[] {
  return pairs.flatMap(([name, value]) => [name, value]);
}

/**
 * The decoder's dynamic table, newest first, as flat [name, value, ...]:
 * decodes indexed fields 62, 63, ... until one is out of range.
 */
export function dynamicEntries(decoder: HpackDecoder): string[] {
  const listLimit = decoder.maxHeaderListSize;
  decoder.setMaxHeaderListSize(Infinity);
  try {
    return probeEntries(decoder);
  } finally {
    decoder.setMaxHeaderListSize(listLimit);
  }
}

function probeEntries(decoder: HpackDecoder): string[] {
  const entries: string[] = [];
  for (let index = 62; index < 62 + 1000; index++) {
    const probe = index < 127 ? Buffer.from([0x80 | index]) : Buffer.from([0xff, index - 127]);
    try {
      decoder.decode(probe, entries);
    } catch (error) {
      if (error instanceof HpackError) return entries;
      throw error;
    }
  }
  return entries;
}
