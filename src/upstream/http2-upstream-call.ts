/** `UpstreamCall` over a node:http2 client stream on a pooled session. */
import http2, { type ClientHttp2Stream, type IncomingHttpHeaders } from 'node:http2';
import { headersFromFields } from '../engine/header-objects.js';
import { ProxyError } from '../errors/proxy-error.js';
import { errorFromResetCode, resetCodeName } from './reset-errors.js';
import {
  isFieldList,
  type UpstreamCall,
  type UpstreamHandler,
  type UpstreamRequestHead,
} from './upstream-call.js';
import type { UpstreamSession } from './upstream-session.js';

const { NGHTTP2_FLAG_END_STREAM, NGHTTP2_NO_ERROR } = http2.constants;

export class Http2UpstreamCall implements UpstreamCall {
  readonly #stream: ClientHttp2Stream;
  readonly #upstream: UpstreamSession;
  /**
   * Cancels the stream: aborting its signal makes node:http2 send only
   * RST_STREAM(CANCEL). `close(NGHTTP2_CANCEL)` first half-closes the stream
   * (an empty DATA frame with END_STREAM), and a backend that acts on the
   * half-close first (gRPC C-core does) sees a cancelled call as completed.
   */
  readonly #abort = new AbortController();
  #responseEnded = false;
  #cancelled = false;
  /** END_STREAM arrived on response HEADERS or trailers. */
  #endStreamSeen = false;

  /**
   * Opens the stream on `upstream` (from `SessionPool.acquire()`), which
   * counts it against the session's stream limit until it closes; throws a
   * ProxyError when it cannot even be opened. `onConnected`, given for a
   * session still connecting, is called once: when the backend's SETTINGS
   * arrive (the connection is established) or the stream closes first. It
   * ends the call's wait for a connection (`max_pending`).
   */
  constructor(
    upstream: UpstreamSession,
    head: UpstreamRequestHead,
    endStream: boolean,
    handler: UpstreamHandler,
    onConnected?: () => void,
  ) {
    let stream: ClientHttp2Stream;
    try {
      // Fields reach this engine only if an engine mix ever hands them over.
      const headers = isFieldList(head) ? headersFromFields([...head]) : head;
      stream = upstream.request(headers, endStream, this.#abort.signal);
    } catch (error) {
      throw openError(error, upstream);
    }
    this.#stream = stream;
    this.#upstream = upstream;
    if (onConnected !== undefined) {
      let waiting = true;
      const connected = (): void => {
        if (!waiting) return;
        waiting = false;
        stopWaiting();
        onConnected();
      };
      const stopWaiting = upstream.whenReady(connected);
      stream.once('close', connected);
    }
    stream.on('response', (responseHeaders: IncomingHttpHeaders, flags: number) => {
      const endStream = (flags & NGHTTP2_FLAG_END_STREAM) !== 0;
      if (endStream) this.#endStreamSeen = true;
      handler.onResponse(responseHeaders, endStream);
    });
    stream.on('data', (chunk: Buffer) => handler.onResponseData(chunk));
    stream.on('trailers', (trailers: IncomingHttpHeaders) => {
      this.#endStreamSeen = true;
      handler.onTrailers(trailers);
    });
    stream.on('end', () => {
      // node:http2 also ends the readable side when the stream is reset or
      // the connection dies: only a real END_STREAM is a response's end.
      const broken = this.#endStreamSeen ? undefined : brokenEnd(stream, upstream);
      this.#responseEnded = true;
      if (broken === undefined) handler.onResponseEnd();
      else handler.onUpstreamError(broken);
    });
    stream.on('drain', () => handler.onRequestDrain());
    // The cause is classified on 'close', which always follows.
    stream.on('error', (error: Error) => upstream.streamError(error));
    stream.on('close', () => {
      upstream.streamClosed();
      if (this.#responseEnded || this.#cancelled) return;
      handler.onUpstreamError(closeError(stream, upstream));
    });
  }

  write(chunk: Buffer): boolean {
    if (this.#stream.destroyed || this.#stream.writableEnded) return true;
    return this.#stream.write(chunk);
  }

  end(): void {
    if (!this.#stream.destroyed && !this.#stream.writableEnded) this.#stream.end();
  }

  cancel(): void {
    // Never reset a stream that already ended: backends count resets.
    if (this.#responseEnded || this.#stream.closed || this.#stream.destroyed) return;
    this.#cancelled = true;
    this.#abort.abort();
    this.#upstream.noteResetSent();
  }

  pauseResponse(): void {
    this.#stream.pause();
  }

  resumeResponse(): void {
    this.#stream.resume();
  }
}

function openError(error: unknown, upstream: UpstreamSession): ProxyError {
  const code = (error as { code?: unknown }).code;
  if (code === 'ERR_HTTP2_INVALID_HEADER_VALUE' || code === 'ERR_INVALID_CHAR') {
    return new ProxyError('bad_request', 'request header not valid to forward', { cause: error });
  }
  // No stream was created, so nothing reached the backend.
  const reason = error instanceof Error ? error.message : String(error);
  return new ProxyError(
    'upstream_connect_failed',
    `upstream ${upstream.authority}: cannot open a stream (${reason})`,
    { cause: error },
  );
}

/**
 * The readable side ended with no END_STREAM seen in headers or trailers:
 * a failure if the connection died or the stream was reset, else (a
 * non-gRPC body ended by DATA with END_STREAM) undefined.
 */
function brokenEnd(stream: ClientHttp2Stream, upstream: UpstreamSession): ProxyError | undefined {
  if (upstream.failure !== undefined || upstream.session.destroyed || stream.rstCode !== 0) {
    return closeError(stream, upstream);
  }
  return undefined;
}

/**
 * Why a stream closed before its response ended. The two "backend never saw
 * it" cases come first, as transparent retries replay exactly those:
 * - the session never connected → `upstream_connect_failed`;
 * - the stream's id is above the backend's GOAWAY last-stream-id →
 *   `upstream_refused_stream`. node:http2 closes such streams with
 *   REFUSED_STREAM after GOAWAY(NO_ERROR), but after a GOAWAY with an error
 *   code it destroys the session and every stream gets that code, so the id
 *   decides, not rstCode;
 * - RST_STREAM(REFUSED_STREAM) maps to `upstream_refused_stream` below.
 */
function closeError(stream: ClientHttp2Stream, upstream: UpstreamSession): ProxyError {
  const endpoint = upstream.authority;
  if (!upstream.connected) {
    const reason = upstream.failure?.message ?? 'connection closed before it was established';
    return new ProxyError('upstream_connect_failed', `upstream ${endpoint}: ${reason}`);
  }
  if (upstream.neverProcessed(stream)) {
    const which = stream.id === undefined ? 'a stream not yet sent' : `stream ${stream.id}`;
    const last = upstream.goawayLastStreamId ?? 0;
    return new ProxyError(
      'upstream_refused_stream',
      `upstream ${endpoint} sent GOAWAY (last-stream-id ${last}) before processing ${which}`,
    );
  }
  if (upstream.failure !== undefined || upstream.session.destroyed) {
    const goaway = upstream.goawayCode;
    const reason =
      upstream.failure?.message ??
      (goaway === undefined || goaway === NGHTTP2_NO_ERROR
        ? 'connection closed'
        : `connection closed after GOAWAY ${resetCodeName(goaway)}`);
    return new ProxyError('upstream_connection_lost', `upstream ${endpoint}: ${reason}`);
  }
  if (stream.rstCode !== NGHTTP2_NO_ERROR) {
    return errorFromResetCode(stream.rstCode, endpoint);
  }
  return new ProxyError(
    'upstream_protocol_error',
    `upstream ${endpoint} closed the stream before the response ended`,
  );
}
