/** `UpstreamCall` over a node:http2 client stream on a pooled session. */
import http2, {
  type ClientHttp2Stream,
  type IncomingHttpHeaders,
  type OutgoingHttpHeaders,
} from 'node:http2';
import { ProxyError } from '../errors/proxy-error.js';
import { errorFromResetCode } from './reset-errors.js';
import type { UpstreamCall, UpstreamHandler } from './upstream-call.js';
import type { UpstreamSession } from './upstream-session.js';

const { NGHTTP2_FLAG_END_STREAM, NGHTTP2_CANCEL, NGHTTP2_NO_ERROR } = http2.constants;

export class Http2UpstreamCall implements UpstreamCall {
  readonly #stream: ClientHttp2Stream;
  #responseEnded = false;
  #cancelled = false;

  /** Opens the stream; throws a ProxyError when it cannot even be opened. */
  constructor(
    upstream: UpstreamSession,
    headers: OutgoingHttpHeaders,
    endStream: boolean,
    handler: UpstreamHandler,
  ) {
    let stream: ClientHttp2Stream;
    try {
      stream = upstream.session.request(headers, { endStream });
    } catch (error) {
      throw openError(error, upstream);
    }
    this.#stream = stream;
    stream.on('response', (responseHeaders: IncomingHttpHeaders, flags: number) =>
      handler.onResponse(responseHeaders, (flags & NGHTTP2_FLAG_END_STREAM) !== 0),
    );
    stream.on('data', (chunk: Buffer) => handler.onResponseData(chunk));
    stream.on('trailers', (trailers: IncomingHttpHeaders) => handler.onTrailers(trailers));
    stream.on('end', () => {
      this.#responseEnded = true;
      handler.onResponseEnd();
    });
    stream.on('drain', () => handler.onRequestDrain());
    // The cause is classified on 'close', which always follows.
    stream.on('error', () => undefined);
    stream.on('close', () => {
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
    this.#stream.close(NGHTTP2_CANCEL);
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
  return new ProxyError(
    'upstream_connect_failed',
    `upstream ${upstream.authority}: cannot open a stream`,
    { cause: error },
  );
}

/** Why a stream closed before its response ended. */
function closeError(stream: ClientHttp2Stream, upstream: UpstreamSession): ProxyError {
  const endpoint = upstream.authority;
  if (!upstream.connected) {
    const reason = upstream.failure?.message ?? 'connection closed';
    return new ProxyError('upstream_connect_failed', `upstream ${endpoint}: ${reason}`);
  }
  if (upstream.failure !== undefined || upstream.session.destroyed) {
    const reason = upstream.failure?.message ?? 'connection closed';
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
