/**
 * The one classified result of a call, built once when the call ends and
 * handed to every sink (access log now; metrics, breakers and outlier
 * detection read the same record). `grpcStatus` is what the client was told:
 * from the backend's trailers-only headers or trailers, or from the proxy's
 * own error.
 */
import type { ProxyErrorCode } from '../errors/proxy-error.js';
import type { AttemptRecord } from './attempt-record.js';
import type { Endpoint } from '../upstream/endpoint.js';

export type OutcomeSource =
  /** The backend's reply reached the client (its status, whatever it is). */
  | 'upstream'
  /** The proxy answered itself (no route, no endpoint, upstream failure...). */
  | 'local'
  /** The client went away before the reply ended. */
  | 'cancelled';

export interface CallOutcome {
  readonly requestId: string;
  readonly listener: string;
  /** Subject of the client's TLS certificate (mTLS listeners). */
  readonly clientSubject?: string | undefined;
  readonly method: string;
  readonly path: string;
  readonly authority: string;
  readonly grpc: boolean;
  readonly route: string | undefined;
  /** The route was matched by gRPC `service` or `method` (its path names a configured service). */
  readonly grpcRoute: boolean;
  readonly cluster: string | undefined;
  readonly endpoint: string | undefined;
  /** The Endpoint object of `endpoint` (the last attempt's), for sinks that keep per-endpoint state. */
  readonly endpointRef: Endpoint | undefined;
  readonly source: OutcomeSource;
  /** gRPC status the client saw; undefined for non-gRPC calls. */
  readonly grpcStatus: number | undefined;
  /** HTTP :status sent; undefined when no headers went out. */
  readonly httpStatus: number | undefined;
  readonly error: ProxyErrorCode | undefined;
  readonly errorMessage: string | undefined;
  readonly durationMs: number;
  readonly bytesIn: number;
  readonly bytesOut: number;
  /** gRPC messages the client sent (length prefixes seen); 0 for non-gRPC calls. */
  readonly messagesIn: number;
  /** gRPC messages sent to the client. */
  readonly messagesOut: number;
  /** Attempts made, transparent retries included (0 when no endpoint was tried). */
  readonly attempts: number;
  /** Retries the route's retry policy made (transparent retries not counted). */
  readonly retries: number;
  /** The attempts given up before the last, oldest first. */
  readonly earlierAttempts: readonly AttemptRecord[];
}

/** Something that learns from each finished call. */
export interface OutcomeSink {
  record(outcome: CallOutcome): void;
}
