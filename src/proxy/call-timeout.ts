/**
 * A call's timeout: the earlier of the client's `grpc-timeout` (honoured by
 * default, unlike Envoy) and the route's `timeout`. Malformed grpc-timeout
 * is the client's error (INTERNAL, as PROTOCOL-HTTP2.md has servers answer);
 * zero means the deadline already passed.
 */
import { ProxyError } from '../errors/proxy-error.js';
import { parseGrpcTimeout } from '../grpc/grpc-timeout.js';
import type { RequestHead } from '../listener/downstream-call.js';
import type { Route } from '../router/route-table.js';

/** Milliseconds the call may take, or undefined for no limit; throws a ProxyError. */
export function callTimeoutMs(head: RequestHead, route: Route): number | undefined {
  const given = head.header('grpc-timeout');
  let timeoutMs = route.timeoutMs;
  if (given !== undefined && head.isGrpc) {
    const clientMs = parseGrpcTimeout(given);
    if (clientMs === undefined) {
      throw new ProxyError('bad_request', `malformed grpc-timeout "${given}"`);
    }
    timeoutMs = timeoutMs === undefined ? clientMs : Math.min(timeoutMs, clientMs);
  }
  if (timeoutMs !== undefined && timeoutMs <= 0) throw deadlineExceeded(timeoutMs);
  return timeoutMs;
}

export function deadlineExceeded(timeoutMs: number): ProxyError {
  return new ProxyError('deadline_exceeded', `deadline of ${timeoutMs}ms exceeded`);
}
