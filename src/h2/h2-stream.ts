/**
 * One HTTP/2 stream (RFC 9113 §5.1): its state, its send queue and its two
 * flow-control windows.
 *
 * State is kept as flags rather than a state enum: `headSent` (our HEADERS
 * went out), `endSent` / `remoteEnd` (END_STREAM each way) and `isClosed`
 * give idle, open, half-closed (local), half-closed (remote) and closed. The
 * receive methods check each frame against that state and throw
 * H2StreamError with the code §5.1 prescribes; the connection turns it into
 * RST_STREAM.
 *
 * Outgoing bytes wait in the queue until the connection's pump (one per flush)
 * moves them into DATA frames as the stream and connection windows allow;
 * END_STREAM rides on the last DATA frame, or on trailers sent after it.
 * Incoming bytes are credited back with WINDOW_UPDATE once the handler has
 * had them, in batches, and not while the stream is paused.
 *
 * Methods, not closures: the connection calls the stream, the stream calls
 * back a few connection methods marked internal.
 */
import {
  FLAG_END_STREAM,
  FLOW_CONTROL_ERROR,
  MAX_WINDOW,
  PROTOCOL_ERROR,
  STREAM_CLOSED,
  STREAM_HIGH_WATER_MARK,
  STREAM_LOW_WATER_MARK,
} from './constants.js';
import type { FrameWriter } from './frame-writer.js';
import type { H2Connection } from './h2-connection.js';
import { H2StreamError } from './h2-error.js';
import { checkResponseHead, checkTrailers, type HeaderFields } from './header-fields.js';

export type StreamCloseReason =
  'complete' | 'reset_remote' | 'reset_local' | 'refused' | 'connection_lost';

export interface StreamHandler {
  /** HEADERS: a response head (client role, 1xx skipped) or trailers (either role, endStream true). */
  onHeaders(fields: HeaderFields, endStream: boolean): void;
  /** DATA payload (a slice of the read buffer, valid until the handler returns unless copied). */
  onData(chunk: Buffer, endStream: boolean): void;
  /** Buffered outgoing bytes fell to the low-water mark after write() returned false. */
  onWritable(): void;
  /** Once, last. `code` 0 = completed both ways; else the RST_STREAM code or the connection's error. */
  onClose(code: number, reason: StreamCloseReason): void;
}

function ignore(): void {
  // a stream nobody listens to
}

/** The handler of a stream before its owner sets one. */
export const NO_HANDLER: StreamHandler = Object.freeze({
  onHeaders: ignore,
  onData: ignore,
  onWritable: ignore,
  onClose: ignore,
});

const EMPTY = Buffer.alloc(0);

export class H2Stream {
  handler: StreamHandler;
  readonly connection: H2Connection;

  // Internal state, read and written by H2Connection only.
  /** @internal Stream id; 0 while a client stream waits for a slot. */
  sid = 0;
  /** @internal Our HEADERS (request or response head) went out. */
  headSent = false;
  /** @internal Client role: the final (non-1xx) response head arrived. Server: always true. */
  headReceived: boolean;
  /** @internal end() (or an END_STREAM head) was asked for. */
  endQueued = false;
  /** @internal END_STREAM went out. */
  endSent = false;
  /** @internal END_STREAM came in. */
  remoteEnd = false;
  /** @internal onClose has run (or is running). */
  isClosed = false;
  /** @internal */
  paused = false;
  /** @internal The peer's window for this stream (what we may send). */
  sendWindow = 0;
  /** @internal Our window (what the peer may send). */
  recvWindow = 0;
  /** @internal Bytes received and not yet credited back. */
  owed = 0;
  /** @internal In the connection's ready list. */
  inReady = false;
  /** @internal Client role: the request head, until the stream gets an id. */
  pendingHead: HeaderFields | undefined;
  /** @internal Client role: the request was a HEAD (a response content-length is not counted). */
  noResponseBody = false;

  /**
   * The queue: `current` is the chunk being sent (from `headOffset`), the
   * ones after it are later[laterHead, laterEnd). Most streams send one
   * chunk, so the array is made only for a second (measured: an array per
   * stream was about a twentieth of a proxied call's garbage). Consumed
   * slots are cleared, never spliced.
   */
  private current: Buffer | undefined;
  private later: Buffer[] | undefined;
  private laterHead = 0;
  private laterEnd = 0;
  private headOffset = 0;
  private queuedBytes = 0;
  private trailers: HeaderFields | undefined;
  private wantWritable = false;
  private contentLength = -1;
  private received = 0;

  constructor(connection: H2Connection, handler: StreamHandler, headReceived: boolean) {
    this.connection = connection;
    this.handler = handler;
    this.headReceived = headReceived;
  }

  /** 0 while a client stream waits for a stream slot. */
  get id(): number {
    return this.sid;
  }

  get localEnded(): boolean {
    return this.endQueued;
  }

  get remoteEnded(): boolean {
    return this.remoteEnd;
  }

  get closed(): boolean {
    return this.isClosed;
  }

  /** Bytes written and not yet sent. */
  get bufferedBytes(): number {
    return this.queuedBytes;
  }

  /** Response head (server) or trailers; endStream ends our side. */
  sendHeaders(fields: HeaderFields, endStream: boolean): void {
    if (this.isClosed || this.endQueued) return;
    if (this.headSent || this.connection.role === 'client') {
      this.end(fields);
      return;
    }
    this.headSent = true;
    if (endStream) this.endQueued = true;
    if (endStream && this.queuedBytes === 0) {
      this.connection.writeHeaderBlock(this.sid, fields, FLAG_END_STREAM);
      this.markEndSent();
      return;
    }
    this.connection.writeHeaderBlock(this.sid, fields, 0);
    if (this.queuedBytes > 0 || this.endQueued) this.connection.streamReady(this);
  }

  /** Queues body bytes. False when buffered bytes exceed the high-water mark (64 KiB). */
  write(chunk: Buffer): boolean {
    if (this.isClosed || this.endQueued) return false;
    if (chunk.length > 0) {
      if (this.current === undefined) this.current = chunk;
      else (this.later ??= [])[this.laterEnd++] = chunk;
      this.queuedBytes += chunk.length;
      if (this.sid !== 0 && this.headSent && this.sendWindow > 0) {
        this.connection.streamReady(this);
      }
    }
    if (this.queuedBytes <= STREAM_HIGH_WATER_MARK) return true;
    this.wantWritable = true;
    return false;
  }

  /** Ends our side: trailers HEADERS(END_STREAM) if given, else END_STREAM on DATA; after queued data. */
  end(trailers?: HeaderFields): void {
    if (this.isClosed || this.endQueued) return;
    this.endQueued = true;
    this.trailers = trailers;
    if (this.sid !== 0 && this.headSent) this.connection.streamReady(this);
  }

  /** RST_STREAM(code) (unless closed); queued data dropped; onClose('reset_local'). */
  reset(code: number): void {
    if (this.isClosed) return;
    this.connection.streamReset(this, code);
    this.finish(code, 'reset_local');
  }

  /** Stop crediting our receive window for this stream's DATA. */
  pause(): void {
    this.paused = true;
  }

  /** Restart crediting (owed credit goes out if it is worth a WINDOW_UPDATE). */
  resume(): void {
    if (!this.paused) return;
    this.paused = false;
    if (!this.isClosed && !this.remoteEnd) this.credit(this.connection.writer);
  }

  /** @internal The peer may now send (after our head went out). Sets the windows. */
  start(sid: number, sendWindow: number, recvWindow: number): void {
    this.sid = sid;
    this.sendWindow = sendWindow;
    this.recvWindow = recvWindow;
  }

  /** @internal Something for the pump: data the stream window allows, or the end. */
  canSend(): boolean {
    if (this.isClosed || !this.headSent || this.endSent) return false;
    if (this.queuedBytes > 0) return this.sendWindow > 0;
    return this.endQueued;
  }

  /** @internal Client role: the request head is being sent; true when it carries END_STREAM. */
  headEndsStream(): boolean {
    return this.endQueued && this.queuedBytes === 0 && this.trailers === undefined;
  }

  /**
   * @internal One frame of what is queued: DATA of at most `limit` bytes (the
   * connection window and max frame size), or the end. Returns the DATA bytes sent.
   */
  sendNext(writer: FrameWriter, limit: number): number {
    if (this.queuedBytes > 0) {
      const chunk = this.current ?? EMPTY;
      const from = this.headOffset;
      const n = Math.min(chunk.length - from, this.sendWindow, limit);
      if (n <= 0) return 0;
      const to = from + n;
      this.sendWindow -= n;
      this.queuedBytes -= n;
      if (to === chunk.length) {
        this.headOffset = 0;
        this.current = this.nextLater();
      } else {
        this.headOffset = to;
      }
      const last = this.queuedBytes === 0 && this.endQueued && this.trailers === undefined;
      writer.data(this.sid, last ? FLAG_END_STREAM : 0, chunk, from, to);
      if (this.wantWritable && this.queuedBytes <= STREAM_LOW_WATER_MARK) {
        this.wantWritable = false;
        this.connection.deferWritable(this);
      }
      if (last) this.markEndSent();
      return n;
    }
    if (this.endQueued && !this.endSent) {
      const trailers = this.trailers;
      if (trailers === undefined) writer.data(this.sid, FLAG_END_STREAM, EMPTY, 0, 0);
      else this.connection.writeHeaderBlock(this.sid, trailers, FLAG_END_STREAM);
      this.trailers = undefined;
      this.markEndSent();
    }
    return 0;
  }

  /** The oldest chunk after `current`, taken off the queue; undefined when there is none. */
  private nextLater(): Buffer | undefined {
    const later = this.later;
    if (later === undefined || this.laterHead === this.laterEnd) return undefined;
    const chunk = later[this.laterHead];
    later[this.laterHead] = EMPTY;
    if (++this.laterHead === this.laterEnd) {
      this.laterHead = 0;
      this.laterEnd = 0;
    }
    return chunk;
  }

  private markEndSent(): void {
    this.endSent = true;
    if (this.remoteEnd) this.connection.deferComplete(this);
  }

  /** @internal Server role: the request head (already checked by the connection). */
  receiveRequestHead(contentLength: number, endStream: boolean): void {
    this.contentLength = contentLength;
    if (endStream) {
      if (contentLength > 0) this.fail(PROTOCOL_ERROR, 'content-length with no DATA');
      this.remoteEnd = true;
    }
  }

  /** @internal HEADERS on this existing stream: a response head (client) or trailers. */
  receiveHeaders(fields: HeaderFields, endStream: boolean): void {
    if (this.remoteEnd) this.fail(STREAM_CLOSED, 'HEADERS after END_STREAM');
    if (!this.headReceived) {
      const contentLength = checkResponseHead(fields, this.sid);
      const status = fields[1] === undefined ? 0 : Number(fields[1]);
      if (status < 200 && fields[0] === ':status') {
        if (endStream || status === 101)
          this.fail(PROTOCOL_ERROR, `:status ${status} ends the stream`);
        return;
      }
      this.headReceived = true;
      if (!this.noResponseBody && status !== 204 && status !== 304) {
        this.contentLength = contentLength;
      }
    } else {
      if (!endStream) this.fail(PROTOCOL_ERROR, 'trailers without END_STREAM');
      checkTrailers(fields, this.sid);
    }
    if (endStream) this.checkLength(0, true);
    if (endStream) this.remoteEnd = true;
    this.handler.onHeaders(fields, endStream);
    if (endStream && this.endSent) this.finish(0, 'complete');
  }

  /** @internal DATA: `frameLength` (with padding) counts against the window, `chunk` is the payload. */
  receiveData(chunk: Buffer, endStream: boolean, frameLength: number): void {
    if (this.remoteEnd) this.fail(STREAM_CLOSED, 'DATA after END_STREAM');
    if (!this.headReceived) this.fail(PROTOCOL_ERROR, 'DATA before the response head');
    if (frameLength > this.recvWindow) this.fail(FLOW_CONTROL_ERROR, 'DATA beyond the window');
    this.recvWindow -= frameLength;
    this.owed += frameLength;
    if (this.contentLength >= 0) this.checkLength(chunk.length, endStream);
    if (endStream) this.remoteEnd = true;
    if (chunk.length > 0 || endStream) this.handler.onData(chunk, endStream);
    if (this.isClosed) return;
    if (endStream) {
      if (this.endSent) this.finish(0, 'complete');
    } else if (!this.paused) {
      this.credit(this.connection.writer);
    }
  }

  /** @internal WINDOW_UPDATE for this stream. */
  receiveWindowUpdate(increment: number): void {
    if (increment === 0) this.fail(PROTOCOL_ERROR, 'WINDOW_UPDATE of 0');
    const window = this.sendWindow + increment;
    if (window > MAX_WINDOW) this.fail(FLOW_CONTROL_ERROR, 'window above 2^31-1');
    this.sendWindow = window;
    if (window > 0 && this.canSend()) this.connection.streamReady(this);
  }

  /** @internal SETTINGS_INITIAL_WINDOW_SIZE changed by `delta` (§6.9.2). False on overflow. */
  adjustSendWindow(delta: number): boolean {
    const window = this.sendWindow + delta;
    if (window > MAX_WINDOW) return false;
    this.sendWindow = window;
    if (delta > 0 && window > 0 && this.canSend()) this.connection.streamReady(this);
    return true;
  }

  /** @internal Closes the stream: queue dropped, connection told, handler.onClose. Idempotent. */
  finish(code: number, reason: StreamCloseReason): void {
    if (this.isClosed) return;
    this.isClosed = true;
    this.current = undefined;
    this.later = undefined;
    this.laterHead = 0;
    this.laterEnd = 0;
    this.queuedBytes = 0;
    this.trailers = undefined;
    this.pendingHead = undefined;
    this.connection.streamClosed(this);
    this.handler.onClose(code, reason);
  }

  private credit(writer: FrameWriter): void {
    const owed = this.owed;
    if (owed === 0 || owed < this.connection.streamCreditThreshold) return;
    this.owed = 0;
    this.recvWindow += owed;
    writer.windowUpdate(this.sid, owed);
  }

  private checkLength(bytes: number, endStream: boolean): void {
    if (this.contentLength < 0) return;
    this.received += bytes;
    if (this.received > this.contentLength || (endStream && this.received !== this.contentLength)) {
      this.fail(PROTOCOL_ERROR, 'DATA does not match content-length');
    }
  }

  private fail(code: number, message: string): never {
    throw new H2StreamError(code, this.sid, message);
  }
}
