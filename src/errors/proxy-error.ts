/**
 * Every failure the proxy itself causes or detects is a ProxyError with a
 * stable code. `ERROR_TABLE` is the one place that maps each code to the
 * gRPC status a gRPC client sees and the HTTP status any other client sees.
 * Codes are part of the public surface (access log `error` field, metrics).
 */
import { GrpcStatus, type GrpcStatusCode } from '../grpc/status.js';

export interface ErrorMapping {
  readonly grpcStatus: GrpcStatusCode;
  readonly httpStatus: number;
}

export const ERROR_TABLE = {
  /** No route matched the request. */
  no_route: { grpcStatus: GrpcStatus.UNIMPLEMENTED, httpStatus: 404 },
  /** A gRPC route got a request whose content-type is not application/grpc. */
  unsupported_media_type: { grpcStatus: GrpcStatus.INTERNAL, httpStatus: 415 },
  /** The request itself is malformed (missing :path, bad header...). */
  bad_request: { grpcStatus: GrpcStatus.INTERNAL, httpStatus: 400 },
  /** The cluster has no endpoint that can take the call. */
  no_healthy_endpoint: { grpcStatus: GrpcStatus.UNAVAILABLE, httpStatus: 503 },
  /** A cluster limit refused the call (circuit_breaker max_requests, max_pending, max_connections). */
  cluster_overloaded: { grpcStatus: GrpcStatus.UNAVAILABLE, httpStatus: 503 },
  /** TCP/HTTP2 connection to the endpoint could not be made. */
  upstream_connect_failed: { grpcStatus: GrpcStatus.UNAVAILABLE, httpStatus: 503 },
  /** The connection to the endpoint went away while the call was on it. */
  upstream_connection_lost: { grpcStatus: GrpcStatus.UNAVAILABLE, httpStatus: 502 },
  /** The endpoint refused the stream (REFUSED_STREAM): it never saw the call. */
  upstream_refused_stream: { grpcStatus: GrpcStatus.UNAVAILABLE, httpStatus: 503 },
  /** The attempt got no committed reply within the retry policy's per_try_timeout. */
  upstream_timeout: { grpcStatus: GrpcStatus.DEADLINE_EXCEEDED, httpStatus: 504 },
  /** The endpoint reset the stream with CANCEL. */
  upstream_cancelled: { grpcStatus: GrpcStatus.CANCELLED, httpStatus: 502 },
  /** The endpoint reset the stream with ENHANCE_YOUR_CALM. */
  upstream_overloaded: { grpcStatus: GrpcStatus.RESOURCE_EXHAUSTED, httpStatus: 502 },
  /** The endpoint reset the stream with INADEQUATE_SECURITY. */
  upstream_inadequate_security: { grpcStatus: GrpcStatus.PERMISSION_DENIED, httpStatus: 502 },
  /** The endpoint reset the stream with any other code. */
  upstream_reset: { grpcStatus: GrpcStatus.INTERNAL, httpStatus: 502 },
  /** The endpoint's reply broke the gRPC protocol (no grpc-status, ...). */
  upstream_protocol_error: { grpcStatus: GrpcStatus.INTERNAL, httpStatus: 502 },
  /** A gRPC message is larger than the listener's max_message_size. */
  message_too_large: { grpcStatus: GrpcStatus.RESOURCE_EXHAUSTED, httpStatus: 413 },
  /** The call's deadline (client grpc-timeout or route timeout) passed. */
  deadline_exceeded: { grpcStatus: GrpcStatus.DEADLINE_EXCEEDED, httpStatus: 504 },
  /** The client went away before the call finished (recorded, not sent). */
  downstream_cancelled: { grpcStatus: GrpcStatus.CANCELLED, httpStatus: 499 },
  /** The proxy is shutting down and cancelled the call. */
  shutting_down: { grpcStatus: GrpcStatus.UNAVAILABLE, httpStatus: 503 },
  /** A bug or an unexpected condition inside the proxy. */
  internal: { grpcStatus: GrpcStatus.INTERNAL, httpStatus: 500 },
} as const satisfies Record<string, ErrorMapping>;

export type ProxyErrorCode = keyof typeof ERROR_TABLE;

export class ProxyError extends Error {
  readonly code: ProxyErrorCode;
  /** Overrides the table's gRPC status, e.g. for an upstream non-gRPC reply. */
  readonly grpcStatus: GrpcStatusCode;
  readonly httpStatus: number;

  constructor(
    code: ProxyErrorCode,
    message: string,
    options: { cause?: unknown; grpcStatus?: GrpcStatusCode } = {},
  ) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'ProxyError';
    this.code = code;
    this.grpcStatus = options.grpcStatus ?? ERROR_TABLE[code].grpcStatus;
    this.httpStatus = ERROR_TABLE[code].httpStatus;
  }
}

/** Wraps anything thrown into a ProxyError, keeping ProxyErrors as they are. */
export function toProxyError(error: unknown): ProxyError {
  if (error instanceof ProxyError) return error;
  const message = error instanceof Error ? error.message : String(error);
  return new ProxyError('internal', `internal proxy error: ${message}`, { cause: error });
}
