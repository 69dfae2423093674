/**
 * An attempt of a call that was given up for another one (a retry or a
 * transparent retry): where it ran and how it failed. The call's outcome
 * carries these besides its own result, which is its last attempt's, so
 * that outlier detection judges every endpoint a call tried and the access
 * log shows each try.
 */
import type { ProxyErrorCode } from '../errors/proxy-error.js';
import type { Endpoint } from '../upstream/endpoint.js';

export interface AttemptRecord {
  readonly endpoint: string;
  readonly endpointRef: Endpoint;
  /** `upstream`: the backend replied with this status; `local`: the proxy saw this failure. */
  readonly source: 'upstream' | 'local';
  readonly grpcStatus: number | undefined;
  readonly httpStatus: number | undefined;
  readonly error: ProxyErrorCode | undefined;
  readonly durationMs: number;
  /** How the call went on: a counted retry, or a transparent one (the backend never saw it). */
  readonly then: 'retry' | 'transparent';
}
