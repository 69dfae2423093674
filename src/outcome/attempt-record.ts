/**
 * An attempt of a call that was given up for another one (a retry, a
 * transparent retry, or a hedged attempt that failed or lost): where it ran
 * and how it ended. The call's outcome
 * carries these besides its own result, which is its last attempt's, so
 * that outlier detection judges every endpoint a call tried and the access
 * log shows each try.
 */
import type { ProxyErrorCode } from '../errors/proxy-error.js';
import type { Endpoint } from '../upstream/endpoint.js';

export interface AttemptRecord {
  readonly endpoint: string;
  readonly endpointRef: Endpoint;
  /**
   * `upstream`: the backend replied with this status; `local`: the proxy saw
   * this failure; `cancelled`: the proxy cancelled it (a hedge that lost).
   */
  readonly source: 'upstream' | 'local' | 'cancelled';
  readonly grpcStatus: number | undefined;
  readonly httpStatus: number | undefined;
  readonly error: ProxyErrorCode | undefined;
  readonly durationMs: number;
  /**
   * Why it was given up: a counted retry followed, a transparent one (the
   * backend never saw it), or it was one of several hedged attempts and
   * failed (`hedge`) or lost to another (`hedge_lost`).
   */
  readonly then: 'retry' | 'transparent' | 'hedge' | 'hedge_lost';
}
