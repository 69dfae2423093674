/**
 * Log lines batched into 64 KiB buffers before they go to their output (for
 * stdout: sonic-boom, one write(2) per batch instead of one per line). Each
 * line is encoded straight into the current batch. A line may come whole, as
 * a string (`write`, what pino gives any destination), or in parts (`LineSink`,
 * for the access log's hand-written line): the parts are encoded one after
 * another, so the line's string is never joined (measured: the joined access
 * line was the proxy's biggest single allocation, ~9% of its bytes, garbage as
 * soon as it was encoded).
 */
import { maxPartBytes, type LinePart } from './line-part.js';

/** Marks a destination as a `LineSink` (a symbol: no other destination has it by chance). */
export const LINE_SINK: unique symbol = Symbol('switchyard.lineSink');

/**
 * A destination that takes a line as parts written in order. `beginLine`
 * is told the most bytes the whole line can take before any part is written,
 * so that the line lands in one batch (a line split across two batches could
 * be torn apart by another process's write to the same stdout). Each string
 * part must be well-formed UTF-16 on its own (no surrogate pair split between
 * two parts), as JSON from JSON.stringify always is.
 */
export interface LineSink {
  readonly [LINE_SINK]: true;
  /**
   * Starts a line of at most `maxBytes` UTF-8 bytes (`maxPartBytes` of its
   * parts summed), all of them to follow through `put` before anything else
   * is written to this destination. False when the line might not fit even
   * an empty batch: write it whole (`write`) then.
   */
  beginLine(maxBytes: number): boolean;
  /** Encodes (a string) or copies (an encoded part) the next part of the line begun. */
  put(part: LinePart): void;
  /** A whole line. */
  write(line: string): void;
}

export function isLineSink(stream: object): stream is LineSink {
  return (stream as Partial<LineSink>)[LINE_SINK] === true;
}

/** Where full batches go. */
export interface BatchOutput {
  /** Takes the chunk (it is not written to again). */
  write(chunk: Buffer): void;
  /** Writes out what it holds before returning (at exit). */
  flushSync(): void;
}

/** Strings up to this many characters are copied into the batch by hand while ASCII. */
const SHORT_STRING = 48;

/** Encoded parts up to this many bytes are copied by hand. */
const SHORT_BYTES = 32;

/** Bytes of log lines handed to the output at once. */
export const BATCH_BYTES = 64 * 1024;

/**
 * The batches of one output. Not flushed by itself: the owner flushes it
 * on a timer and at exit (logger.ts), so that tests can hold one.
 */
export class LineBatch implements LineSink {
  readonly [LINE_SINK] = true as const;
  readonly #output: BatchOutput;
  // A new buffer per batch: the output may keep the last one until it is written.
  #batch = Buffer.allocUnsafeSlow(BATCH_BYTES);
  #used = 0;

  constructor(output: BatchOutput) {
    this.#output = output;
  }

  write(line: string): void {
    if (this.beginLine(maxPartBytes(line))) {
      this.put(line);
      return;
    }
    this.#output.write(Buffer.from(line, 'utf8'));
  }

  beginLine(maxBytes: number): boolean {
    // Room for the worst case: no UTF-8 length measured per line.
    if (this.#used + maxBytes <= BATCH_BYTES) return true;
    this.flushBatch();
    return maxBytes <= BATCH_BYTES;
  }

  put(part: LinePart): void {
    if (typeof part === 'string') {
      this.#putString(part);
      return;
    }
    const bytes = part.bytes;
    const batch = this.#batch;
    let used = this.#used;
    if (bytes.length > SHORT_BYTES) {
      batch.set(bytes, used);
      this.#used = used + bytes.length;
      return;
    }
    // A few bytes copied by hand cost less than TypedArray.set's checks.
    for (let i = 0; i < bytes.length; i++) batch[used++] = bytes[i] ?? 0;
    this.#used = used;
  }

  /**
   * A short string is copied by hand while it is ASCII (Buffer.write is a
   * call into C++ that costs more than copying a few dozen characters); a
   * long one, or the rest of one from its first non-ASCII character, is
   * encoded by Buffer.write.
   */
  #putString(part: string): void {
    const batch = this.#batch;
    let used = this.#used;
    let i = 0;
    if (part.length <= SHORT_STRING) {
      for (; i < part.length; i++) {
        const c = part.charCodeAt(i);
        if (c >= 0x80) break;
        batch[used++] = c;
      }
      if (i === part.length) {
        this.#used = used;
        return;
      }
    }
    this.#used = used + batch.write(i === 0 ? part : part.slice(i), used, 'utf8');
  }

  /**
   * Hands the lines batched so far to the output. Not named `flush`: pino's
   * `logger.flush(cb)` would call that with a callback it never calls back.
   */
  flushBatch(): void {
    if (this.#used === 0) return;
    const full = this.#batch.subarray(0, this.#used);
    this.#batch = Buffer.allocUnsafeSlow(BATCH_BYTES);
    this.#used = 0;
    this.#output.write(full);
  }

  /** Flushes the batch and the output (pino calls this after a `fatal` line; also at exit). */
  flushSync(): void {
    this.flushBatch();
    this.#output.flushSync();
  }
}
