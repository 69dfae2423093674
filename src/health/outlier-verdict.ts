/**
 * What one finished call (or one attempt given up for a retry) says about
 * the endpoint it ran on, for outlier detection: a failure, a success, or
 * nothing (`neutral`).
 *
 * - The status is the one the client saw (trailers-only headers, trailers, or
 *   the proxy's own error): a failure iff it is one of the failure codes. An
 *   application status such as NOT_FOUND is a success for the endpoint.
 * - The proxy's `upstream_*` errors (connect failed, connection lost, reset,
 *   refused stream, protocol error...) are always failures.
 * - The client cancelling, the deadline passing and the proxy's own limits
 *   say nothing about the endpoint.
 * - A non-gRPC call counts a 5xx as a failure.
 */
import type { CallOutcome } from '../outcome/call-outcome.js';

export type OutlierVerdict = 'success' | 'failure' | 'neutral';

export function outlierVerdict(
  outcome: Pick<CallOutcome, 'source' | 'error' | 'grpcStatus' | 'httpStatus'>,
  failureCodes: ReadonlySet<number>,
): OutlierVerdict {
  switch (outcome.source) {
    case 'cancelled':
      return 'neutral';
    case 'local':
      return outcome.error?.startsWith('upstream_') === true ? 'failure' : 'neutral';
    case 'upstream':
      if (outcome.grpcStatus !== undefined) {
        return failureCodes.has(outcome.grpcStatus) ? 'failure' : 'success';
      }
      if (outcome.httpStatus === undefined) return 'neutral';
      return outcome.httpStatus >= 500 ? 'failure' : 'success';
  }
}
