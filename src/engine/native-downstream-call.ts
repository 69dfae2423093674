/**
 * `DownstreamCall` over a switchyard-engine server stream. The listener
 * makes one per stream in its `onStream` and the stream's events come here;
 * until the call's handler attaches (the same turn, normally) request bytes
 * wait in a small queue with the stream paused.
 */
import type { OutgoingHttpHeaders } from 'node:http2';
import { NO_ERROR } from '../h2/constants.js';
import type { H2Stream, StreamHandler } from '../h2/h2-stream.js';
import type {
  DownstreamCall,
  DownstreamHandler,
  RequestHead,
} from '../listener/downstream-call.js';
import type { CancelCall } from '../listener/proxy-listener.js';
import { fieldsFromHeaders } from './header-objects.js';
import { NativeRequestHead, type RequestOrigin } from './native-request-head.js';

/** Where a connection's calls come from: read once per connection, shared by its calls. */
export interface ConnectionOrigin extends RequestOrigin {
  /** The listener's bookkeeping: called first when any of its streams closes. */
  readonly streamClosed: (stream: H2Stream) => void;
}

export class NativeDownstreamCall implements DownstreamCall, StreamHandler {
  readonly head: RequestHead;
  readonly #stream: H2Stream;
  readonly #origin: ConnectionOrigin;
  #handler: DownstreamHandler | undefined;
  /** Request events that arrived before attach(). */
  #early: (Buffer | null)[] | undefined;
  #closedEarly: { code: number } | undefined;
  #responded = false;
  #ended = false;
  /** How the listener ends this call at the end of a drain's grace period (`onCall`'s answer). */
  cancelHook: CancelCall | undefined;

  constructor(stream: H2Stream, fields: string[], endStream: boolean, origin: ConnectionOrigin) {
    this.#stream = stream;
    this.#origin = origin;
    this.head = new NativeRequestHead(fields, endStream, origin);
    stream.handler = this;
  }

  attach(handler: DownstreamHandler): void {
    this.#handler = handler;
    const early = this.#early;
    if (early !== undefined) {
      this.#early = undefined;
      for (const chunk of early) {
        if (chunk === null) handler.onRequestEnd();
        else handler.onRequestData(chunk);
      }
      this.#stream.resume();
    }
    if (this.#closedEarly !== undefined) this.#closed(this.#closedEarly.code);
  }

  get responded(): boolean {
    return this.#responded;
  }

  respond(headers: OutgoingHttpHeaders): void {
    if (this.#stream.closed || this.#responded) return;
    this.#responded = true;
    this.#stream.sendHeaders(fieldsFromHeaders(headers), false);
  }

  respondAndEnd(headers: OutgoingHttpHeaders): void {
    if (this.#stream.closed || this.#responded) return;
    this.#responded = true;
    this.#ended = true;
    this.#stream.sendHeaders(fieldsFromHeaders(headers), true);
  }

  write(chunk: Buffer): boolean {
    if (this.#stream.closed) return true;
    return this.#stream.write(chunk);
  }

  end(trailers: OutgoingHttpHeaders | undefined): void {
    if (this.#stream.closed || this.#ended) return;
    this.#ended = true;
    this.#stream.end(trailers === undefined ? undefined : fieldsFromHeaders(trailers));
  }

  reset(code: number): void {
    if (!this.#stream.closed) this.#stream.reset(code);
  }

  pauseRequest(): void {
    this.#stream.pause();
  }

  resumeRequest(): void {
    this.#stream.resume();
  }

  // StreamHandler: the engine's events for this stream.

  onHeaders(_fields: string[], endStream: boolean): void {
    // Request trailers: gRPC has none; only their END_STREAM matters.
    if (endStream) this.onData(EMPTY, true);
  }

  onData(chunk: Buffer, endStream: boolean): void {
    const handler = this.#handler;
    if (handler === undefined) {
      this.#early ??= [];
      if (this.#early.length === 0) this.#stream.pause();
      if (chunk.length > 0) this.#early.push(chunk);
      if (endStream) this.#early.push(null);
      return;
    }
    if (chunk.length > 0) handler.onRequestData(chunk);
    if (endStream) handler.onRequestEnd();
  }

  onWritable(): void {
    this.#handler?.onResponseDrain();
  }

  onClose(code: number): void {
    this.#origin.streamClosed(this.#stream);
    if (this.#handler === undefined) {
      this.#closedEarly = { code };
      return;
    }
    this.#closed(code);
  }

  #closed(code: number): void {
    // NO_ERROR covers the RST_STREAM(NO_ERROR) that follows a reply sent
    // before the client finished its request (RFC 9113 §8.1).
    this.#handler?.onDownstreamClose(this.#ended && code === NO_ERROR);
  }
}

const EMPTY = Buffer.alloc(0);
