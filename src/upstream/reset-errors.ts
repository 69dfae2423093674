/**
 * How an upstream stream that ended badly becomes a ProxyError. RST_STREAM
 * codes map per PROTOCOL-HTTP2.md: REFUSED_STREAM -> UNAVAILABLE (the backend
 * never processed it), CANCEL -> CANCELLED, ENHANCE_YOUR_CALM ->
 * RESOURCE_EXHAUSTED, INADEQUATE_SECURITY -> PERMISSION_DENIED, else INTERNAL.
 */
import http2 from 'node:http2';
import { ProxyError } from '../errors/proxy-error.js';
import { knownErrorCodeName } from '../h2/constants.js';

const C = http2.constants;

export function errorFromResetCode(code: number, endpoint: string): ProxyError {
  const detail = `upstream ${endpoint} reset the stream (${resetCodeName(code)})`;
  switch (code) {
    case C.NGHTTP2_REFUSED_STREAM:
      return new ProxyError('upstream_refused_stream', detail);
    case C.NGHTTP2_CANCEL:
      return new ProxyError('upstream_cancelled', detail);
    case C.NGHTTP2_ENHANCE_YOUR_CALM:
      return new ProxyError('upstream_overloaded', detail);
    case C.NGHTTP2_INADEQUATE_SECURITY:
      return new ProxyError('upstream_inadequate_security', detail);
    default:
      return new ProxyError('upstream_reset', detail);
  }
}

/** RFC 9113's name of an RST_STREAM or GOAWAY code, or `code N` for one it does not name. */
export function resetCodeName(code: number): string {
  return knownErrorCodeName(code) ?? `code ${code}`;
}
