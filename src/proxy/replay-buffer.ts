/**
 * The request bytes already sent upstream, kept so that a call the backend
 * never saw can be replayed to another endpoint. Bounded: past `limit`
 * bytes the buffer is dropped and the call can no longer be replayed.
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

  /** The chunks to replay, or undefined when the body outgrew the limit. */
  get chunks(): readonly Buffer[] | undefined {
    return this.#chunks;
  }
}
