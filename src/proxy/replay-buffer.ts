/**
 * The request bytes already sent upstream, kept so that the call can be
 * replayed to another endpoint (a transparent retry or a retry). Bounded:
 * past `limit` bytes the buffer is dropped and the call can no longer be
 * replayed.
 */
const NOTHING_YET: readonly Buffer[] = Object.freeze([]);

export class ReplayBuffer {
  /** Made at the first chunk, as `[chunk]`: most requests are one chunk. */
  #chunks: Buffer[] | undefined;
  #dropped = false;
  #bytes = 0;
  #ended = false;

  constructor(readonly limit: number) {}

  /** Keeps a copy-free reference to a chunk that is being sent upstream. */
  append(chunk: Buffer): void {
    if (this.#dropped) return;
    this.#bytes += chunk.length;
    if (this.#bytes > this.limit) {
      this.drop();
      return;
    }
    if (this.#chunks === undefined) this.#chunks = [chunk];
    else this.#chunks.push(chunk);
  }

  /** The request body has ended (END_STREAM seen). */
  end(): void {
    this.#ended = true;
  }

  get ended(): boolean {
    return this.#ended;
  }

  /** Nothing was dropped: the request so far can be replayed. */
  get intact(): boolean {
    return !this.#dropped;
  }

  /** Frees the chunks: no attempt will be replayed any more. */
  drop(): void {
    this.#dropped = true;
    this.#chunks = undefined;
  }

  /** The chunks to replay, or undefined when the body outgrew the limit. */
  get chunks(): readonly Buffer[] | undefined {
    return this.#dropped ? undefined : (this.#chunks ?? NOTHING_YET);
  }
}
