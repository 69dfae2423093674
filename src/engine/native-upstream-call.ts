/**
 * `UpstreamCall` over a switchyard-engine client stream on a pooled
 * connection. Classifies a stream that closed before its response ended the
 * way `Http2UpstreamCall` does, the "backend never saw it" cases first
 * (transparent retries replay exactly those).
 */
import { ProxyError } from '../errors/proxy-error.js';
import { CANCEL } from '../h2/constants.js';
import type { H2Stream, StreamCloseReason, StreamHandler } from '../h2/h2-stream.js';
import { AfterRead } from '../proxy/after-read.js';
import { errorFromResetCode } from '../upstream/reset-errors.js';
import {
  isFieldList,
  type UpstreamCall,
  type UpstreamHandler,
  type UpstreamRequestHead,
} from '../upstream/upstream-call.js';
import { fieldsFromHeaders, headersFromFields } from './header-objects.js';
import type { NativeUpstreamSession } from './native-upstream-session.js';

/** Calls whose end() came during the current read, half-closed once it has been handled. */
const halfCloses = new AfterRead<NativeUpstreamCall>((call) => call.halfClose());

export class NativeUpstreamCall implements UpstreamCall, StreamHandler {
  readonly #stream: H2Stream;
  readonly #session: NativeUpstreamSession;
  readonly #handler: UpstreamHandler;
  #onConnected: (() => void) | undefined;
  #stopWaiting: (() => void) | undefined;
  #responded = false;
  #responseEnded = false;
  #cancelled = false;
  #endQueued = false;

  /** Opens the stream on `session`; throws a ProxyError when it cannot be opened. */
  constructor(
    session: NativeUpstreamSession,
    head: UpstreamRequestHead,
    endStream: boolean,
    handler: UpstreamHandler,
    onConnected?: () => void,
  ) {
    this.#session = session;
    this.#handler = handler;
    // Fields from upstreamRequestFields are fit to send as they are (mutable in type only).
    const fields = isFieldList(head) ? (head as string[]) : fieldsFromHeaders(head);
    try {
      this.#stream = session.connection.request(fields, endStream, this);
    } catch (error) {
      const reason = error instanceof Error ? error.message : String(error);
      throw new ProxyError(
        'upstream_connect_failed',
        `upstream ${session.authority}: cannot open a stream (${reason})`,
        { cause: error },
      );
    }
    session.streamOpened();
    if (onConnected !== undefined) {
      this.#onConnected = onConnected;
      this.#stopWaiting = session.whenReady(() => this.#connected());
    }
  }

  write(chunk: Buffer): boolean {
    if (this.#stream.closed || this.#stream.localEnded) return true;
    return this.#stream.write(chunk);
  }

  /**
   * Half-closes once the current read has been handled, not at once. A client
   * that cancels sends END_STREAM and RST_STREAM back to back (node:http2's
   * `close()` does); both usually arrive in one read, and a half-close sent
   * ahead of the reset lets a backend finish the call as completed before it
   * sees the cancel. A cancel in the same read supersedes the half-close.
   */
  end(): void {
    if (this.#endQueued) return;
    this.#endQueued = true;
    halfCloses.add(this);
  }

  /** The deferred half-close of end(), unless a cancel came first. */
  halfClose(): void {
    if (this.#cancelled || this.#stream.closed || this.#stream.localEnded) return;
    this.#stream.end();
  }

  cancel(): void {
    // Never reset a stream that already ended: backends count resets.
    if (this.#responseEnded || this.#stream.closed) return;
    this.#cancelled = true;
    this.#stream.reset(CANCEL);
    this.#session.noteResetSent();
  }

  pauseResponse(): void {
    this.#stream.pause();
  }

  resumeResponse(): void {
    this.#stream.resume();
  }

  // StreamHandler: the engine's events for this stream.

  onHeaders(fields: string[], endStream: boolean): void {
    if (!this.#responded) {
      this.#responded = true;
      this.#handler.onResponse(headersFromFields(fields), endStream);
    } else {
      this.#handler.onTrailers(headersFromFields(fields));
    }
    if (endStream) this.#ended();
  }

  onData(chunk: Buffer, endStream: boolean): void {
    if (chunk.length > 0) this.#handler.onResponseData(chunk);
    if (endStream) this.#ended();
  }

  onWritable(): void {
    this.#handler.onRequestDrain();
  }

  onClose(code: number, reason: StreamCloseReason): void {
    this.#session.streamClosed();
    this.#connected();
    if (this.#responseEnded || this.#cancelled) return;
    this.#handler.onUpstreamError(this.#closeError(code, reason));
  }

  #ended(): void {
    if (this.#responseEnded) return;
    this.#responseEnded = true;
    this.#handler.onResponseEnd();
  }

  #connected(): void {
    const onConnected = this.#onConnected;
    if (onConnected === undefined) return;
    this.#onConnected = undefined;
    this.#stopWaiting?.();
    onConnected();
  }

  /** Why the stream closed before its response ended. */
  #closeError(code: number, reason: StreamCloseReason): ProxyError {
    const session = this.#session;
    const endpoint = session.authority;
    if (!session.connected) {
      const why = session.failure?.message ?? 'connection closed before it was established';
      return new ProxyError('upstream_connect_failed', `upstream ${endpoint}: ${why}`);
    }
    if (reason === 'refused') {
      const id = this.#stream.id;
      const which = id === 0 ? 'a stream not yet sent' : `stream ${id}`;
      const last = session.goawayLastStreamId ?? 0;
      return new ProxyError(
        'upstream_refused_stream',
        `upstream ${endpoint} sent GOAWAY (last-stream-id ${last}) before processing ${which}`,
      );
    }
    if (reason === 'connection_lost') {
      return new ProxyError(
        'upstream_connection_lost',
        `upstream ${endpoint}: ${session.describeLoss()}`,
      );
    }
    if (reason === 'reset_remote' || reason === 'reset_local') {
      return errorFromResetCode(code, endpoint);
    }
    return new ProxyError(
      'upstream_protocol_error',
      `upstream ${endpoint} closed the stream before the response ended`,
    );
  }
}
