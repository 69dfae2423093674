/**
 * The HPACK Huffman code (RFC 7541 §5.2, Appendix B).
 *
 * Appendix B is a canonical Huffman code: within one code length, codes are
 * consecutive in symbol order, and each length starts where the previous
 * left off. So the table below holds only the 257 code lengths (transcribed
 * from the appendix, 16 symbols a row, EOS = 256 last) and the codes are
 * derived from them; tests compare derived codes with the appendix.
 *
 * Decoding is a byte-at-a-time state machine: the 256 states are the
 * internal nodes of the code tree (a position inside a code), and one table
 * lookup per input byte gives the next state and the 0, 1 or 2 symbols the
 * byte completes (the shortest code is 5 bits). §5.2 errors: EOS inside the
 * string, padding of 8 bits or more, or padding that is not a prefix of EOS
 * (all ones).
 */
import { HpackError } from './hpack-error.js';

/** Symbol 256: end of string, never valid inside a string. */
const EOS = 256;

// prettier-ignore
const CODE_LENGTHS: readonly number[] = [
  13, 23, 28, 28, 28, 28, 28, 28, 28, 24, 30, 28, 28, 30, 28, 28, //   0-15
  28, 28, 28, 28, 28, 28, 30, 28, 28, 28, 28, 28, 28, 28, 28, 28, //  16-31
   6, 10, 10, 12, 13,  6,  8, 11, 10, 10,  8, 11,  8,  6,  6,  6, //  32-47
   5,  5,  5,  6,  6,  6,  6,  6,  6,  6,  7,  8, 15,  6, 12, 10, //  48-63
  13,  6,  7,  7,  7,  7,  7,  7,  7,  7,  7,  7,  7,  7,  7,  7, //  64-79
   7,  7,  7,  7,  7,  7,  7,  7,  8,  7,  8, 13, 19, 13, 14,  6, //  80-95
  15,  5,  6,  5,  6,  5,  6,  6,  6,  5,  7,  7,  6,  6,  6,  5, //  96-111
   6,  7,  6,  5,  5,  6,  7,  7,  7,  7,  7, 15, 11, 14, 13, 28, // 112-127
  20, 22, 20, 20, 22, 22, 22, 23, 22, 23, 23, 23, 23, 23, 24, 23, // 128-143
  24, 24, 22, 23, 24, 23, 23, 23, 23, 21, 22, 23, 22, 23, 23, 24, // 144-159
  22, 21, 20, 22, 22, 23, 23, 21, 23, 22, 22, 24, 21, 22, 23, 23, // 160-175
  21, 21, 22, 21, 23, 22, 23, 23, 20, 22, 22, 22, 23, 22, 22, 23, // 176-191
  26, 26, 20, 19, 22, 23, 22, 25, 26, 26, 26, 27, 27, 26, 24, 25, // 192-207
  19, 21, 26, 27, 27, 26, 27, 24, 21, 21, 26, 26, 28, 27, 27, 27, // 208-223
  20, 24, 20, 21, 22, 21, 21, 23, 22, 22, 25, 25, 24, 24, 26, 23, // 224-239
  26, 27, 26, 26, 27, 27, 27, 27, 27, 28, 27, 27, 27, 27, 27, 26, // 240-255
  30,                                                             // EOS
];

const SYMBOL_COUNT = 257;
const LONGEST_CODE = 30;

/** Code length in bits per symbol. */
const lengthOf = new Uint8Array(SYMBOL_COUNT);
/** Code per symbol, right-aligned. */
const codeOf = new Int32Array(SYMBOL_COUNT);
assignCanonicalCodes();

/** Code length (bits) and code of `symbol` (0..256), as derived from Appendix B. */
export function huffmanCode(symbol: number): { readonly code: number; readonly bits: number } {
  return { code: codeOf[symbol] ?? 0, bits: lengthOf[symbol] ?? 0 };
}

function assignCanonicalCodes(): void {
  let code = 0;
  let kraftSum = 0;
  for (let bits = 1; bits <= LONGEST_CODE; bits++) {
    for (let symbol = 0; symbol < SYMBOL_COUNT; symbol++) {
      if (CODE_LENGTHS[symbol] !== bits) continue;
      lengthOf[symbol] = bits;
      codeOf[symbol] = code;
      code++;
      kraftSum += 2 ** (LONGEST_CODE - bits);
    }
    code *= 2;
  }
  if (kraftSum !== 2 ** LONGEST_CODE)
    throw new Error('HPACK Huffman code lengths are not a complete code');
}

/** Length in octets of `text` (latin1) Huffman-coded, padding included. */
export function huffmanEncodedLength(text: string): number {
  let bits = 0;
  for (let i = 0; i < text.length; i++) bits += lengthOf[text.charCodeAt(i) & 0xff] ?? 0;
  return (bits + 7) >>> 3;
}

/**
 * Writes `text` (latin1) Huffman-coded into `target` at `offset`, padded
 * with ones (the start of EOS). Returns the offset after it. `target` must
 * have huffmanEncodedLength(text) octets free.
 */
export function huffmanEncodeInto(text: string, target: Uint8Array, offset: number): number {
  let pending = 0; // bits not yet written, right-aligned; at most 7 between symbols
  let pendingBits = 0;
  let at = offset;
  for (let i = 0; i < text.length; i++) {
    const symbol = text.charCodeAt(i) & 0xff;
    const bits = lengthOf[symbol] ?? 0;
    const code = codeOf[symbol] ?? 0;
    if (bits > 24) {
      // Two steps keep the accumulator within 31 bits.
      const highBits = bits - 16;
      pending = (pending << highBits) | (code >>> 16);
      pendingBits += highBits;
      while (pendingBits >= 8) {
        pendingBits -= 8;
        target[at++] = (pending >>> pendingBits) & 0xff;
      }
      pending = (pending << 16) | (code & 0xffff);
      pendingBits += 16;
    } else {
      pending = (pending << bits) | code;
      pendingBits += bits;
    }
    while (pendingBits >= 8) {
      pendingBits -= 8;
      target[at++] = (pending >>> pendingBits) & 0xff;
    }
    pending &= (1 << pendingBits) - 1;
  }
  if (pendingBits > 0) {
    target[at++] = ((pending << (8 - pendingBits)) | (0xff >>> pendingBits)) & 0xff;
  }
  return at;
}

/** `text` (latin1) Huffman-coded, in a new Buffer. */
export function huffmanEncode(text: string): Buffer {
  const out = Buffer.allocUnsafe(huffmanEncodedLength(text));
  huffmanEncodeInto(text, out, 0);
  return out;
}

// Decoder state machine. Entry for (state, byte) at [state << 8 | byte]:
const NEXT_STATE_MASK = 0xff;
const FIRST_SYMBOL_SHIFT = 8;
const SECOND_SYMBOL_SHIFT = 16;
const SYMBOL_COUNT_SHIFT = 24;
const EOS_DECODED = 1 << 26;

let transitions: Int32Array | undefined;
/** 1 for states where the string may end: the bits since the last symbol are 0-7 ones. */
const acceptingState = new Uint8Array(256);

function decoderTransitions(): Int32Array {
  transitions ??= buildTransitions();
  return transitions;
}

function buildTransitions(): Int32Array {
  // Code tree: children[node * 2 + bit] > 0: internal node; < 0: leaf -(symbol + 1).
  const children = new Int32Array(512);
  let nodeCount = 1; // node 0 is the root
  for (let symbol = 0; symbol < SYMBOL_COUNT; symbol++) {
    const bits = lengthOf[symbol] ?? 0;
    const code = codeOf[symbol] ?? 0;
    let node = 0;
    for (let bit = bits - 1; bit > 0; bit--) {
      const slot = node * 2 + ((code >>> bit) & 1);
      if (children[slot] === 0) children[slot] = nodeCount++;
      node = children[slot] ?? 0;
    }
    children[node * 2 + (code & 1)] = -(symbol + 1);
  }
  if (nodeCount !== 256) throw new Error('HPACK Huffman tree must have 256 internal nodes');

  let onesNode = 0;
  acceptingState[0] = 1;
  for (let depth = 1; depth <= 7; depth++) {
    onesNode = children[onesNode * 2 + 1] ?? 0;
    acceptingState[onesNode] = 1;
  }

  const table = new Int32Array(256 * 256);
  for (let state = 0; state < 256; state++) {
    for (let byte = 0; byte < 256; byte++) {
      let node = state;
      let emitted = 0;
      let entry = 0;
      for (let bit = 7; bit >= 0; bit--) {
        const child = children[node * 2 + ((byte >>> bit) & 1)] ?? 0;
        if (child >= 0) {
          node = child;
          continue;
        }
        const symbol = -child - 1;
        if (symbol === EOS) {
          entry |= EOS_DECODED;
          break;
        }
        entry |= symbol << (emitted === 0 ? FIRST_SYMBOL_SHIFT : SECOND_SYMBOL_SHIFT);
        emitted++;
        node = 0;
      }
      table[(state << 8) | byte] = entry | (emitted << SYMBOL_COUNT_SHIFT) | node;
    }
  }
  return table;
}

/**
 * Decodes input[start, end) into `target` from offset 0, writing at most
 * `cap` octets (target must have room for them) but always reading, and
 * validating, the whole input. Returns the full decoded length (which may
 * exceed `cap`: then only the first `cap` octets were written).
 * Throws HpackError on EOS in the string or bad padding.
 */
export function huffmanDecodeInto(
  input: Uint8Array,
  start: number,
  end: number,
  target: Uint8Array,
  cap: number,
): number {
  const table = decoderTransitions();
  let state = 0;
  let length = 0;
  for (let i = start; i < end; i++) {
    const entry = table[(state << 8) | (input[i] ?? 0)] ?? 0;
    if ((entry & EOS_DECODED) !== 0) throw new HpackError('Huffman string contains EOS');
    const symbols = entry >>> SYMBOL_COUNT_SHIFT;
    if (symbols !== 0) {
      if (length < cap) target[length] = (entry >>> FIRST_SYMBOL_SHIFT) & 0xff;
      length++;
      if (symbols === 2) {
        if (length < cap) target[length] = (entry >>> SECOND_SYMBOL_SHIFT) & 0xff;
        length++;
      }
    }
    state = entry & NEXT_STATE_MASK;
  }
  if (acceptingState[state] !== 1) {
    throw new HpackError('Huffman string has invalid padding (longer than 7 bits or not all ones)');
  }
  return length;
}

/** Most octets `encodedLength` octets of Huffman code can decode to (5-bit shortest code). */
export function huffmanMaxDecodedLength(encodedLength: number): number {
  return Math.floor((encodedLength * 8) / 5);
}

/** Decodes input[start, end) (Huffman-coded) to a latin1 string. Throws HpackError. */
export function huffmanDecode(input: Uint8Array, start = 0, end = input.length): string {
  const out = Buffer.allocUnsafe(huffmanMaxDecodedLength(end - start));
  const length = huffmanDecodeInto(input, start, end, out, out.length);
  return out.toString('latin1', 0, length);
}
