/**
 * The backend side of one call, as the data path sees it. The node:http2
 * implementation is `Http2UpstreamCall`; a frame-level engine can provide the
 * same interface later.
 */
import type { IncomingHttpHeaders, OutgoingHttpHeaders } from 'node:http2';
import type { ProxyError } from '../errors/proxy-error.js';

/** Events from the backend side, delivered to the one handler of the call. */
export interface UpstreamHandler {
  /** Response headers; `endStream` marks a trailers-only reply. */
  onResponse(headers: IncomingHttpHeaders, endStream: boolean): void;
  onResponseData(chunk: Buffer): void;
  onTrailers(trailers: IncomingHttpHeaders): void;
  /** The response ended cleanly (after trailers, or END_STREAM on DATA). */
  onResponseEnd(): void;
  /** The backend can take more request bytes. */
  onRequestDrain(): void;
  /** The call failed before its response ended; classified once. */
  onUpstreamError(error: ProxyError): void;
}

export interface UpstreamCall {
  /** Writes request body bytes; false asks the caller to wait for drain. */
  write(chunk: Buffer): boolean;
  /** Ends the request body (END_STREAM). */
  end(): void;
  /** Cancels the call with RST_STREAM(CANCEL), unless it already ended. */
  cancel(): void;
  pauseResponse(): void;
  resumeResponse(): void;
}

/**
 * The request head an upstream call opens with: a header object, or flat
 * `[name, value, ...]` fields whose every value is fit to send (built by
 * `upstreamRequestFields` from fields the switchyard engine checked). The
 * switchyard engine sends fields as they are; node:http2 needs an object.
 */
export type UpstreamRequestHead = OutgoingHttpHeaders | readonly string[];

export function isFieldList(head: UpstreamRequestHead): head is readonly string[] {
  return Array.isArray(head);
}
