/**
 * How an upstream attempt failed, kept as the client may still have to get
 * it (should no retry or hedge follow), and the record of it for the call's
 * outcome. Also the checks that turn a backend's reply into a failure.
 */
import type { IncomingHttpHeaders } from 'node:http2';
import { ProxyError } from '../errors/proxy-error.js';
import { grpcStatusFromHttpStatus } from '../grpc/http-status-mapping.js';
import { GrpcStatus, parseGrpcStatusHeader } from '../grpc/status.js';
import type { AttemptRecord } from '../outcome/attempt-record.js';
import type { UpstreamAttempt } from './upstream-attempt.js';

export type AttemptFailure =
  /** The backend replied with a non-OK status: trailers-only, or headers then trailers. */
  | {
      readonly kind: 'reply';
      readonly grpcStatus: number;
      readonly headers: IncomingHttpHeaders;
      readonly trailers: IncomingHttpHeaders | undefined;
    }
  /** The proxy saw the attempt fail (connect, reset, protocol, per-try timeout). */
  | { readonly kind: 'error'; readonly error: ProxyError }
  /** The proxy cancelled it: another hedged attempt won. */
  | { readonly kind: 'cancelled' };

export function attemptRecord(
  attempt: UpstreamAttempt,
  failure: AttemptFailure,
  then: AttemptRecord['then'],
): AttemptRecord {
  const common = {
    endpoint: attempt.endpoint.address,
    endpointRef: attempt.endpoint,
    durationMs: performance.now() - attempt.startedAt,
    then,
  };
  switch (failure.kind) {
    case 'reply':
      return {
        ...common,
        source: 'upstream',
        grpcStatus: failure.grpcStatus,
        httpStatus: 200,
        error: undefined,
      };
    case 'error':
      return {
        ...common,
        source: 'local',
        grpcStatus: failure.error.grpcStatus,
        httpStatus: undefined,
        error: failure.error.code,
      };
    case 'cancelled':
      return {
        ...common,
        source: 'cancelled',
        grpcStatus: undefined,
        httpStatus: undefined,
        error: undefined,
      };
  }
}

/** The `grpc-status` of headers or trailers; undefined when absent or malformed. */
export function grpcStatusOf(headers: IncomingHttpHeaders): number | undefined {
  const value = headers['grpc-status'];
  return typeof value === 'string' ? parseGrpcStatusHeader(value) : undefined;
}

/** A gRPC call answered with a non-gRPC reply (http-grpc-status-mapping.md). */
export function nonGrpcReply(
  status: number,
  contentType: string | undefined,
  endpoint: string,
): ProxyError {
  const what = status === 200 ? `content-type ${contentType ?? 'none'}` : `HTTP ${status}`;
  return new ProxyError(
    'upstream_protocol_error',
    `upstream ${endpoint} replied ${what}, not gRPC`,
    {
      grpcStatus: status === 200 ? GrpcStatus.UNKNOWN : grpcStatusFromHttpStatus(status),
    },
  );
}

/** Never a silent OK: a gRPC reply must end with a valid grpc-status. */
export function missingStatus(endpoint: string): ProxyError {
  return new ProxyError(
    'upstream_protocol_error',
    `upstream ${endpoint} ended the response without a valid grpc-status`,
    { grpcStatus: GrpcStatus.UNKNOWN },
  );
}

/** A response that ended OK in the middle of a length-prefixed message. */
export function truncatedMessage(endpoint: string, missingBytes: number): ProxyError {
  return new ProxyError(
    'upstream_protocol_error',
    `upstream ${endpoint} ended the response ${missingBytes} bytes short of a whole gRPC message`,
    { grpcStatus: GrpcStatus.INTERNAL },
  );
}
