/**
 * A part of a log line: a string, or a constant part with its UTF-8 bytes
 * encoded once. A destination that takes lines in parts (line-batch.ts)
 * copies an encoded part's bytes into its batch instead of encoding the
 * string again for every line. Why: encoding a string into a Buffer is a
 * call into C++ that costs about as much as encoding a whole joined line
 * (measured on a busy 2-core machine: an access line written as 11
 * Buffer.write calls took about twice the time of joining it and encoding
 * the one string; with its constant parts encoded once and short parts
 * copied by hand, about 10% more, with ~70 instead of ~930 bytes of garbage
 * per line).
 */
import { flat } from './flat-string.js';

export class EncodedPart {
  /** Flat: the parts are joined into a string for any other destination. */
  readonly text: string;
  readonly bytes: Uint8Array;

  constructor(text: string) {
    this.text = flat(text);
    this.bytes = Buffer.from(text, 'utf8');
  }
}

export type LinePart = string | EncodedPart;

export function partText(part: LinePart): string {
  return typeof part === 'string' ? part : part.text;
}

/** The most UTF-8 bytes the part takes: a string's at most 3 per UTF-16 code unit. */
export function maxPartBytes(part: LinePart): number {
  return typeof part === 'string' ? part.length * 3 : part.bytes.length;
}
