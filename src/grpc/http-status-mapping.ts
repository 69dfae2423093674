/**
 * The gRPC status a client must synthesise when a reply lacks `grpc-status`
 * (doc/http-grpc-status-mapping.md). Only for replies from upstream that are
 * not gRPC; the proxy never picks HTTP codes from gRPC statuses this way.
 */
import { GrpcStatus, type GrpcStatusCode } from './status.js';

export function grpcStatusFromHttpStatus(httpStatus: number): GrpcStatusCode {
  switch (httpStatus) {
    case 400:
      return GrpcStatus.INTERNAL;
    case 401:
      return GrpcStatus.UNAUTHENTICATED;
    case 403:
      return GrpcStatus.PERMISSION_DENIED;
    case 404:
      return GrpcStatus.UNIMPLEMENTED;
    case 429:
    case 502:
    case 503:
    case 504:
      return GrpcStatus.UNAVAILABLE;
    default:
      return GrpcStatus.UNKNOWN;
  }
}

/** True for `application/grpc` and `application/grpc+proto` etc. (not grpc-web). */
export function isGrpcContentType(contentType: string | undefined): boolean {
  // Nearly every gRPC call says exactly this: one comparison.
  if (contentType === 'application/grpc') return true;
  if (contentType === undefined || !contentType.startsWith('application/grpc')) return false;
  const next = contentType.charCodeAt(16);
  // Exactly "application/grpc", or followed by "+" (subtype) or ";" (parameters).
  return Number.isNaN(next) || next === 0x2b || next === 0x3b;
}
