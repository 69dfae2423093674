/**
 * One HTTP/2 (h2c) connection to an endpoint, with what the data path needs
 * to know about it: whether it ever connected (so a failed call can be told
 * apart as "never reached the backend") and why it failed.
 */
import http2, { type ClientHttp2Session } from 'node:http2';
import type { Logger } from '../log/logger.js';

export interface UpstreamSessionOptions {
  readonly connectTimeoutMs: number;
  /** Per-stream receive window we advertise to the backend. */
  readonly initialWindowSize: number;
  /** Connection-level receive window. */
  readonly connectionWindowSize: number;
  readonly logger: Logger;
}

export class UpstreamSession {
  readonly session: ClientHttp2Session;
  #connected = false;
  #failure: Error | undefined;

  constructor(
    readonly authority: string,
    options: UpstreamSessionOptions,
  ) {
    const session = http2.connect(`http://${authority}`, {
      settings: { initialWindowSize: options.initialWindowSize, enablePush: false },
      // Calls in flight are bounded by the listeners' stream limits; the
      // default 10 MB session budget would refuse streams under heavy load.
      maxSessionMemory: 64,
    });
    this.session = session;
    const timer = setTimeout(() => {
      this.#failure = new Error(`connect timeout after ${options.connectTimeoutMs}ms`);
      session.destroy(this.#failure);
    }, options.connectTimeoutMs);
    timer.unref();
    session.once('connect', () => {
      clearTimeout(timer);
      this.#connected = true;
      session.setLocalWindowSize(options.connectionWindowSize);
    });
    session.on('error', (error) => {
      this.#failure ??= error;
      options.logger.debug({ err: error, endpoint: authority }, 'upstream session error');
    });
    session.once('close', () => clearTimeout(timer));
  }

  /** The TCP connection and HTTP/2 preface completed at some point. */
  get connected(): boolean {
    return this.#connected;
  }

  /** The error that ended or is ending this session, if any. */
  get failure(): Error | undefined {
    return this.#failure;
  }

  /** New streams may be opened on it. */
  get usable(): boolean {
    return !this.session.closed && !this.session.destroyed && this.#failure === undefined;
  }

  close(): void {
    if (!this.session.closed) this.session.close();
  }
}
