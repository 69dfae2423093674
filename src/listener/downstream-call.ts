/**
 * The client side of one call, as the data path sees it. The node:http2
 * implementation is `Http2DownstreamCall`; a frame-level engine can provide
 * the same interface later without touching routing or forwarding.
 */
import type { IncomingHttpHeaders, OutgoingHttpHeaders } from 'node:http2';

/** The request head, read once when the stream opens. */
export interface RequestHead {
  readonly method: string;
  readonly path: string;
  readonly authority: string;
  readonly scheme: string;
  /** All request headers including pseudo-headers, as received. */
  readonly headers: IncomingHttpHeaders;
  /**
   * The request's header fields as the switchyard engine received them
   * (`[name, value, ...]`, checked by its RFC 9113 §8.2 validation), so the
   * upstream request is built from them without a header object; undefined
   * on the nodejs engine.
   */
  readonly fields?: readonly string[] | undefined;
  /** One header's value (repeated fields joined as `headers` has them); cheaper than `headers`. */
  header(name: string): string | undefined;
  /** content-type is application/grpc or application/grpc+... */
  readonly isGrpc: boolean;
  /** The request had END_STREAM on its HEADERS: no body follows. */
  readonly endStream: boolean;
  readonly remoteAddress: string;
  /** The listener's name, for logs. */
  readonly listener: string;
  /** Subject of the client's TLS certificate (mTLS listeners), e.g. `O=Example, CN=client-1`. */
  readonly clientSubject?: string | undefined;
}

/** Events from the client side, delivered to the one handler of the call. */
export interface DownstreamHandler {
  onRequestData(chunk: Buffer): void;
  onRequestEnd(): void;
  /** The client can take more response bytes. */
  onResponseDrain(): void;
  /** The stream is gone; `complete` is false when it closed before the reply ended. */
  onDownstreamClose(complete: boolean): void;
}

export interface DownstreamCall {
  readonly head: RequestHead;
  /** Starts delivering events; called once, by the call's handler. */
  attach(handler: DownstreamHandler): void;
  /** Response headers were sent (trailers-only counts). */
  readonly responded: boolean;
  /** Sends response headers; a body and trailers follow. */
  respond(headers: OutgoingHttpHeaders): void;
  /** Sends one HEADERS frame with END_STREAM (a gRPC trailers-only reply). */
  respondAndEnd(headers: OutgoingHttpHeaders): void;
  /** Writes response body bytes; false asks the caller to wait for drain. */
  write(chunk: Buffer): boolean;
  /** Ends the response with these trailers (none: an empty END_STREAM). */
  end(trailers: OutgoingHttpHeaders | undefined): void;
  /** Resets the stream (RST_STREAM) with an HTTP/2 error code. */
  reset(code: number): void;
  pauseRequest(): void;
  resumeRequest(): void;
}
