/**
 * Watches a gRPC byte stream for a length-prefixed message longer than a
 * limit, without buffering: it only follows the 5-byte prefixes as chunks go
 * by (a prefix may be split across chunks, a message may span many). It
 * also counts the messages, for the messages-in/out metrics.
 */
export class MessageSizeGuard {
  /** Bytes of the current message body still to skip. */
  #remaining = 0;
  /** Bytes of the current 5-byte prefix seen so far (0 = at a boundary). */
  #prefixSeen = 0;
  #length = 0;
  #messages = 0;

  /** `limit` of Infinity only counts messages. */
  constructor(readonly limit: number) {}

  /** Bytes the stream still owes its current message (at least; within a prefix, the prefix's rest); 0 at a boundary. */
  get missingBytes(): number {
    return this.#prefixSeen === 0 ? this.#remaining : 5 - this.#prefixSeen;
  }

  /** Length prefixes seen so far: the messages begun in this direction. */
  get messages(): number {
    return this.#messages;
  }

  /** Feeds the next chunk; returns the offending length, or undefined if all is within the limit. */
  check(chunk: Buffer): number | undefined {
    let offset = 0;
    while (offset < chunk.length) {
      if (this.#remaining > 0) {
        const skip = Math.min(this.#remaining, chunk.length - offset);
        this.#remaining -= skip;
        offset += skip;
        continue;
      }
      const byte = chunk[offset] ?? 0;
      offset++;
      if (this.#prefixSeen === 0) {
        this.#length = 0; // the compressed-flag byte
      } else {
        this.#length = this.#length * 256 + byte;
      }
      this.#prefixSeen++;
      if (this.#prefixSeen === 5) {
        this.#prefixSeen = 0;
        this.#messages++;
        if (this.#length > this.limit) return this.#length;
        this.#remaining = this.#length;
      }
    }
    return undefined;
  }
}
