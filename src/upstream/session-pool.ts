/**
 * The HTTP/2 connections to one endpoint. Calls multiplex over one session;
 * a session that closed, failed or received GOAWAY is replaced on the next
 * call. (Reconnect back-off and opening more sessions at the backend's stream
 * limit belong to the call-lifecycle work.)
 */
import type { Logger } from '../log/logger.js';
import { UpstreamSession, type UpstreamSessionOptions } from './upstream-session.js';

export class SessionPool {
  #current: UpstreamSession | undefined;
  readonly #all = new Set<UpstreamSession>();

  constructor(
    readonly authority: string,
    private readonly options: UpstreamSessionOptions,
  ) {}

  /** A session to open a stream on, connecting if needed. */
  acquire(): UpstreamSession {
    const current = this.#current;
    if (current?.usable === true) return current;
    const created = new UpstreamSession(this.authority, this.options);
    this.#current = created;
    this.#all.add(created);
    created.session.once('goaway', () => {
      if (this.#current === created) this.#current = undefined;
    });
    created.session.once('close', () => {
      this.#all.delete(created);
      if (this.#current === created) this.#current = undefined;
    });
    return created;
  }

  /** Gracefully closes every session; in-flight streams finish first. */
  async close(): Promise<void> {
    const closing = [...this.#all].map(
      (s) =>
        new Promise<void>((resolve) => {
          if (s.session.closed || s.session.destroyed) {
            resolve();
            return;
          }
          s.session.close(resolve);
        }),
    );
    this.#current = undefined;
    await Promise.all(closing);
  }

  get logger(): Logger {
    return this.options.logger;
  }
}
