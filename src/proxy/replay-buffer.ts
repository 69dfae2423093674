/**
 * The request bytes already sent upstream, kept so that the call can be
 * replayed to another endpoint (a transparent retry or a retry). Bounded:
 * past `limit` bytes the buffer is dropped and the call can no longer be
 * replayed.
 */
export class ReplayBuffer {
  #chunks: Buffer[] | undefined = [];
  #bytes = 0;
  #ended = false;

  constructor(readonly limit: number) {}

  /** Keeps a copy-free reference to a chunk that is being sent upstream. */
  append(chunk: Buffer): void {
    if (this.#chunks === undefined) return;
    this.#bytes += chunk.length;
    if (this.#bytes > this.limit) {
      this.#chunks = undefined;
      return;
    }
    this.#chunks.push(chunk);
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
    return this.#chunks !== undefined;
  }

  /** Frees the chunks: no attempt will be replayed any more. */
  drop(): void {
    this.#chunks = undefined;
  }

  /** The chunks to replay, or undefined when the body outgrew the limit. */
  get chunks(): readonly Buffer[] | undefined {
    return this.#chunks;
  }
}
