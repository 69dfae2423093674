/** `DownstreamCall` over a node:http2 server stream (the stream API, not compat). */
import http2, {
  type Http2Session,
  type IncomingHttpHeaders,
  type OutgoingHttpHeaders,
  type ServerHttp2Stream,
} from 'node:http2';
import { isGrpcContentType } from '../grpc/http-status-mapping.js';
import { clientSubject } from './client-subject.js';
import { markLocalReset } from './connection-guard.js';
import { headerValue } from './header-value.js';
import type { DownstreamCall, DownstreamHandler, RequestHead } from './downstream-call.js';

const { NGHTTP2_FLAG_END_STREAM } = http2.constants;

/** `RequestHead.header` for a head that has its header object: one function for every head. */
function headerOfHead(this: RequestHead, name: string): string | undefined {
  return headerValue(this.headers, name);
}

export class Http2DownstreamCall implements DownstreamCall {
  readonly head: RequestHead;
  readonly #stream: ServerHttp2Stream;
  #trailers: OutgoingHttpHeaders | undefined;
  #ended = false;

  constructor(
    stream: ServerHttp2Stream,
    headers: IncomingHttpHeaders,
    flags: number,
    listener: string,
  ) {
    this.#stream = stream;
    const contentType = headers['content-type'];
    this.head = {
      method: headers[':method'] ?? '',
      path: headers[':path'] ?? '',
      authority: headers[':authority'] ?? headers.host ?? '',
      scheme: headers[':scheme'] ?? 'http',
      headers,
      isGrpc: isGrpcContentType(contentType),
      endStream: (flags & NGHTTP2_FLAG_END_STREAM) !== 0,
      remoteAddress: clientAddress(stream),
      listener,
      clientSubject: clientSubject(stream.session),
      header: headerOfHead,
    };
  }

  attach(handler: DownstreamHandler): void {
    const stream = this.#stream;
    stream.on('data', (chunk: Buffer) => handler.onRequestData(chunk));
    stream.on('end', () => handler.onRequestEnd());
    stream.on('drain', () => handler.onResponseDrain());
    stream.on('wantTrailers', () => {
      const trailers = this.#trailers;
      this.#trailers = undefined;
      stream.sendTrailers(trailers ?? {});
      this.#afterResponseEnd();
    });
    // Errors surface again as 'close' with an rstCode; listening here keeps
    // them from becoming uncaught exceptions.
    stream.on('error', () => undefined);
    stream.on('close', () => handler.onDownstreamClose(this.#ended && stream.rstCode === 0));
  }

  get responded(): boolean {
    return this.#stream.headersSent;
  }

  respond(headers: OutgoingHttpHeaders): void {
    if (this.#gone()) return;
    this.#stream.respond(headers, { waitForTrailers: true });
  }

  respondAndEnd(headers: OutgoingHttpHeaders): void {
    if (this.#gone()) return;
    this.#ended = true;
    this.#stream.respond(headers, { endStream: true });
    this.#afterResponseEnd();
  }

  write(chunk: Buffer): boolean {
    if (this.#gone()) return true;
    return this.#stream.write(chunk);
  }

  end(trailers: OutgoingHttpHeaders | undefined): void {
    if (this.#gone() || this.#ended) return;
    this.#ended = true;
    this.#trailers = trailers;
    this.#stream.end();
  }

  reset(code: number): void {
    if (!this.#stream.closed && !this.#stream.destroyed) {
      markLocalReset(this.#stream);
      this.#stream.close(code);
    }
  }

  pauseRequest(): void {
    this.#stream.pause();
  }

  resumeRequest(): void {
    this.#stream.resume();
  }

  /**
   * The reply is complete but the client may still be sending: tell it to
   * stop with RST_STREAM(NO_ERROR) (RFC 9113 §8.1; PROTOCOL-HTTP2.md "early
   * server closure"). Not in the same turn: node:http2 drops trailers that
   * were just submitted when the stream is closed synchronously after them
   * (measured on Node 20), so the reset waits one turn of the event loop.
   */
  #afterResponseEnd(): void {
    const stream = this.#stream;
    if (stream.readableEnded) return;
    setImmediate(() => {
      if (!stream.readableEnded && !stream.closed && !stream.destroyed) {
        stream.close(http2.constants.NGHTTP2_NO_ERROR);
      }
    });
  }

  #gone(): boolean {
    return this.#stream.closed || this.#stream.destroyed;
  }
}

/**
 * The client's address, read once per connection: `session.socket` is a
 * guarding Proxy, and every call on the connection shares the answer.
 */
const addresses = new WeakMap<Http2Session, string>();

function clientAddress(stream: ServerHttp2Stream): string {
  const session = stream.session;
  if (session === undefined) return '';
  let address = addresses.get(session);
  if (address === undefined) {
    address = session.socket.remoteAddress ?? '';
    addresses.set(session, address);
  }
  return address;
}
