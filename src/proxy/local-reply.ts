/**
 * A reply the proxy makes itself, from a ProxyError. A gRPC client always
 * gets a gRPC reply: trailers-only (HTTP 200, one HEADERS frame with
 * END_STREAM) before any response headers went out, or trailers after. Any
 * other client gets the table's HTTP status and a one-line text body.
 */
import http2 from 'node:http2';
import type { ProxyError } from '../errors/proxy-error.js';
import { encodeGrpcMessage } from '../grpc/grpc-message.js';
import type { DownstreamCall } from '../listener/downstream-call.js';

export function sendLocalReply(call: DownstreamCall, error: ProxyError): void {
  if (call.head.isGrpc) {
    const status = {
      'grpc-status': String(error.grpcStatus),
      'grpc-message': encodeGrpcMessage(error.message),
    };
    if (call.responded) {
      call.end(status);
    } else {
      call.respondAndEnd({ ':status': 200, 'content-type': 'application/grpc', ...status });
    }
    return;
  }
  if (call.responded) {
    // Mid-body there is no way left to say what happened but a reset.
    call.reset(http2.constants.NGHTTP2_INTERNAL_ERROR);
    return;
  }
  call.respond({
    ':status': error.httpStatus,
    'content-type': 'text/plain; charset=utf-8',
    'x-switchyard-error': error.code,
  });
  call.write(Buffer.from(`${error.message}\n`, 'utf8'));
  call.end(undefined);
}
