/**
 * HPACK (RFC 7541) for the conformance suite's raw peer, written
 * independently of src/h2 so the suite does not test the engine with its own
 * code. The encoding side builds header blocks field by field, including
 * deliberately broken ones (bad indexes, oversized table updates, bad
 * Huffman). The decoding side reads the server's responses: static and
 * dynamic table, Huffman, size updates.
 */

/**
 * Code lengths of the Huffman code (Appendix B), symbols 0-255 then EOS. The
 * code is canonical, so the codes follow from the lengths alone (shorter
 * codes first, equal lengths in symbol order); `huffmanCodes` checks that the
 * result ends exactly at 2^30 (EOS is thirty 1 bits).
 */
const HUFFMAN_LENGTHS = [
  13, 23, 28, 28, 28, 28, 28, 28, 28, 24, 30, 28, 28, 30, 28, 28, 28, 28, 28, 28, 28, 28, 30, 28,
  28, 28, 28, 28, 28, 28, 28, 28, 6, 10, 10, 12, 13, 6, 8, 11, 10, 10, 8, 11, 8, 6, 6, 6, 5, 5, 5,
  6, 6, 6, 6, 6, 6, 6, 7, 8, 15, 6, 12, 10, 13, 6, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7,
  7, 7, 7, 7, 7, 7, 8, 7, 8, 13, 19, 13, 14, 6, 15, 5, 6, 5, 6, 5, 6, 6, 6, 5, 7, 7, 6, 6, 6, 5, 6,
  7, 6, 5, 5, 6, 7, 7, 7, 7, 7, 15, 11, 14, 13, 28, 20, 22, 20, 20, 22, 22, 22, 23, 22, 23, 23, 23,
  23, 23, 24, 23, 24, 24, 22, 23, 24, 23, 23, 23, 23, 21, 22, 23, 22, 23, 23, 24, 22, 21, 20, 22,
  22, 23, 23, 21, 23, 22, 22, 24, 21, 22, 23, 23, 21, 21, 22, 21, 23, 22, 23, 23, 20, 22, 22, 22,
  23, 22, 22, 23, 26, 26, 20, 19, 22, 23, 22, 25, 26, 26, 26, 27, 27, 26, 24, 25, 19, 21, 26, 27,
  27, 26, 27, 24, 21, 21, 26, 26, 28, 27, 27, 27, 20, 24, 20, 21, 22, 21, 21, 23, 22, 22, 25, 25,
  24, 24, 26, 23, 26, 27, 26, 26, 27, 27, 27, 27, 27, 28, 27, 27, 27, 27, 27, 26, 30,
];

const EOS = 256;

function huffmanCodes(): number[] {
  const order = HUFFMAN_LENGTHS.map((length, symbol) => ({ length, symbol })).sort(
    (a, b) => a.length - b.length || a.symbol - b.symbol,
  );
  const codes: number[] = [];
  let code = 0;
  let previous = order[0]?.length ?? 0;
  for (const { length, symbol } of order) {
    code *= 2 ** (length - previous);
    previous = length;
    codes[symbol] = code;
    code++;
  }
  if (HUFFMAN_LENGTHS.length !== 257 || code !== 2 ** 30) throw new Error('bad Huffman table');
  return codes;
}

const HUFFMAN_CODES = huffmanCodes();

/** Decoding: `${length}:${code}` → symbol. */
const HUFFMAN_DECODE = new Map<string, number>(
  HUFFMAN_CODES.map((code, symbol) => [`${HUFFMAN_LENGTHS[symbol] ?? 0}:${code}`, symbol]),
);

export function huffmanEncode(bytes: Buffer): Buffer {
  const out: number[] = [];
  let bits = 0;
  let pending = 0;
  for (const byte of bytes) {
    const length = HUFFMAN_LENGTHS[byte] ?? 0;
    const code = HUFFMAN_CODES[byte] ?? 0;
    for (let i = length - 1; i >= 0; i--) {
      pending = (pending << 1) | (Math.floor(code / 2 ** i) & 1);
      if (++bits === 8) {
        out.push(pending);
        bits = 0;
        pending = 0;
      }
    }
  }
  if (bits > 0) out.push((pending << (8 - bits)) | (0xff >> bits));
  return Buffer.from(out);
}

/** Strict decoding (§5.2): throws on EOS, padding over 7 bits, padding that is not all 1s. */
export function huffmanDecode(bytes: Buffer): Buffer {
  const out: number[] = [];
  let code = 0;
  let length = 0;
  for (const byte of bytes) {
    for (let i = 7; i >= 0; i--) {
      code = code * 2 + ((byte >> i) & 1);
      length++;
      const symbol = HUFFMAN_DECODE.get(`${length}:${code}`);
      if (symbol === EOS) throw new Error('Huffman: EOS in string');
      if (symbol !== undefined) {
        out.push(symbol);
        code = 0;
        length = 0;
      } else if (length > 30) {
        throw new Error('Huffman: no code');
      }
    }
  }
  if (length > 7) throw new Error('Huffman: padding over 7 bits');
  if (code !== 2 ** length - 1) throw new Error('Huffman: padding not EOS prefix');
  return Buffer.from(out);
}

/** RFC 7541 Appendix A. Index 1 is STATIC_TABLE[0]. */
export const STATIC_TABLE: readonly (readonly [string, string])[] = [
  [':authority', ''],
  [':method', 'GET'],
  [':method', 'POST'],
  [':path', '/'],
  [':path', '/index.html'],
  [':scheme', 'http'],
  [':scheme', 'https'],
  [':status', '200'],
  [':status', '204'],
  [':status', '206'],
  [':status', '304'],
  [':status', '400'],
  [':status', '404'],
  [':status', '500'],
  ['accept-charset', ''],
  ['accept-encoding', 'gzip, deflate'],
  ['accept-language', ''],
  ['accept-ranges', ''],
  ['accept', ''],
  ['access-control-allow-origin', ''],
  ['age', ''],
  ['allow', ''],
  ['authorization', ''],
  ['cache-control', ''],
  ['content-disposition', ''],
  ['content-encoding', ''],
  ['content-language', ''],
  ['content-length', ''],
  ['content-location', ''],
  ['content-range', ''],
  ['content-type', ''],
  ['cookie', ''],
  ['date', ''],
  ['etag', ''],
  ['expect', ''],
  ['expires', ''],
  ['from', ''],
  ['host', ''],
  ['if-match', ''],
  ['if-modified-since', ''],
  ['if-none-match', ''],
  ['if-range', ''],
  ['if-unmodified-since', ''],
  ['last-modified', ''],
  ['link', ''],
  ['location', ''],
  ['max-forwards', ''],
  ['proxy-authenticate', ''],
  ['proxy-authorization', ''],
  ['range', ''],
  ['referer', ''],
  ['refresh', ''],
  ['retry-after', ''],
  ['server', ''],
  ['set-cookie', ''],
  ['strict-transport-security', ''],
  ['transfer-encoding', ''],
  ['user-agent', ''],
  ['vary', ''],
  ['via', ''],
  ['www-authenticate', ''],
];

/** An HPACK integer (§5.1) with a `prefixBits`-bit prefix, first byte ORed with `mask`. */
export function hpackInt(value: number, prefixBits: number, mask: number): Buffer {
  const max = (1 << prefixBits) - 1;
  if (value < max) return Buffer.from([mask | value]);
  const bytes = [mask | max];
  let rest = value - max;
  while (rest >= 128) {
    bytes.push((rest % 128) + 128);
    rest = Math.floor(rest / 128);
  }
  bytes.push(rest);
  return Buffer.from(bytes);
}

/** A string literal (§5.2), raw or Huffman-coded. */
export function hpackString(text: string | Buffer, huffman = false): Buffer {
  const raw = typeof text === 'string' ? Buffer.from(text, 'latin1') : text;
  const bytes = huffman ? huffmanEncode(raw) : raw;
  return Buffer.concat([hpackInt(bytes.length, 7, huffman ? 0x80 : 0), bytes]);
}

/** A string literal with the Huffman flag set and `bytes` as its (possibly invalid) code. */
export function rawHuffmanString(bytes: Buffer): Buffer {
  return Buffer.concat([hpackInt(bytes.length, 7, 0x80), bytes]);
}

/** Indexed field (§6.1). */
export function indexed(index: number): Buffer {
  return hpackInt(index, 7, 0x80);
}

/** Literal with incremental indexing, new name (§6.2.1): adds the field to the dynamic table. */
export function literalIndexed(name: string, value: string | Buffer, huffman = false): Buffer {
  return Buffer.concat([
    Buffer.from([0x40]),
    hpackString(name, huffman),
    hpackString(value, huffman),
  ]);
}

/** Literal without indexing, new name (§6.2.2). */
export function literal(name: string, value: string | Buffer, huffman = false): Buffer {
  return Buffer.concat([
    Buffer.from([0x00]),
    hpackString(name, huffman),
    hpackString(value, huffman),
  ]);
}

/** Dynamic table size update (§6.3). */
export function sizeUpdate(size: number): Buffer {
  return hpackInt(size, 5, 0x20);
}

export type Fields = readonly (readonly [string, string])[];

/** A header block of literals without indexing: no dynamic table on either side. */
export function headerBlock(fields: Fields): Buffer {
  return Buffer.concat(fields.map(([name, value]) => literal(name, value)));
}

/** Decodes the server's header blocks (one decoder per connection: the dynamic table). */
export class HpackDecoder {
  #table: [string, string][] = [];
  #size = 0;
  #maxSize = 4096;

  decode(block: Buffer): [string, string][] {
    const fields: [string, string][] = [];
    let offset = 0;
    const integer = (prefixBits: number): number => {
      const max = (1 << prefixBits) - 1;
      let value = (block[offset++] ?? 0) & max;
      if (value < max) return value;
      let shift = 0;
      for (;;) {
        if (offset >= block.length) throw new Error('HPACK: truncated integer');
        const byte = block[offset++] ?? 0;
        value += (byte & 0x7f) * 2 ** shift;
        shift += 7;
        if ((byte & 0x80) === 0) return value;
      }
    };
    const string = (): string => {
      const huffman = ((block[offset] ?? 0) & 0x80) !== 0;
      const length = integer(7);
      if (offset + length > block.length) throw new Error('HPACK: truncated string');
      const bytes = block.subarray(offset, offset + length);
      offset += length;
      return (huffman ? huffmanDecode(bytes) : bytes).toString('latin1');
    };
    const entry = (index: number): readonly [string, string] => {
      const found =
        index <= STATIC_TABLE.length
          ? STATIC_TABLE[index - 1]
          : this.#table[index - STATIC_TABLE.length - 1];
      if (index === 0 || found === undefined) throw new Error(`HPACK: bad index ${index}`);
      return found;
    };
    while (offset < block.length) {
      const first = block[offset] ?? 0;
      if (first & 0x80) {
        const [name, value] = entry(integer(7));
        fields.push([name, value]);
      } else if ((first & 0xe0) === 0x20) {
        this.#maxSize = integer(5);
        this.#evict(0);
      } else {
        const incremental = (first & 0xc0) === 0x40;
        const index = integer(incremental ? 6 : 4);
        const name = index === 0 ? string() : entry(index)[0];
        const value = string();
        fields.push([name, value]);
        if (incremental) {
          const size = name.length + value.length + 32;
          this.#evict(size);
          if (size <= this.#maxSize) {
            this.#table.unshift([name, value]);
            this.#size += size;
          }
        }
      }
    }
    return fields;
  }

  #evict(room: number): void {
    while (this.#size + room > this.#maxSize && this.#table.length > 0) {
      const [name, value] = this.#table.pop() ?? ['', ''];
      this.#size -= name.length + value.length + 32;
    }
  }
}
