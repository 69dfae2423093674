/**
 * Opens one attempt's upstream stream: the request headers rewritten for
 * the backend (with the remaining deadline and the attempts before this
 * one), a session from the endpoint's pool, and the cluster's `max_pending`
 * for a call whose session is still connecting. Throws a ProxyError when
 * the stream cannot be opened or a limit refuses it.
 */
import { formatGrpcTimeout } from '../grpc/grpc-timeout.js';
import type { RequestHead } from '../listener/downstream-call.js';
import type { Cluster } from '../upstream/cluster.js';
import type { Endpoint } from '../upstream/endpoint.js';
import type { UpstreamCall, UpstreamHandler } from '../upstream/upstream-call.js';
import {
  upstreamRequestFields,
  upstreamRequestHeaders,
  type UpstreamHeaderOptions,
} from './header-rewrite.js';

export interface UpstreamRequest {
  readonly cluster: Cluster;
  readonly head: RequestHead;
  readonly requestId: string;
  readonly appendForwardedFor: boolean;
  /** performance.now() at which the call expires; undefined for none. */
  readonly deadline: number | undefined;
  /** Sent as `grpc-previous-rpc-attempts` when above 0. */
  readonly previousAttempts: number;
  /** performance.now() as the attempt starts (the remaining deadline is taken from it). */
  readonly now: number;
}

export function openUpstream(
  endpoint: Endpoint,
  handler: UpstreamHandler,
  request: UpstreamRequest,
): UpstreamCall {
  const { cluster, head } = request;
  const options: UpstreamHeaderOptions = {
    authority: cluster.authority,
    scheme: cluster.scheme,
    appendForwardedFor: request.appendForwardedFor,
    requestId: request.requestId,
    grpcTimeout:
      request.deadline === undefined
        ? undefined
        : formatGrpcTimeout(request.deadline - request.now),
    previousAttempts: request.previousAttempts,
  };
  // The switchyard engine's head has fields and its sessions take fields.
  const fields = head.fields;
  const headers =
    fields === undefined
      ? upstreamRequestHeaders(head, options)
      : upstreamRequestFields(head, fields, options);
  const session = endpoint.pool.acquire();
  const pending = session.ready ? undefined : cluster.limits.pending;
  if (pending !== undefined && !pending.tryAcquire()) {
    throw cluster.limits.overflowError('max_pending');
  }
  const onConnected = pending === undefined ? undefined : () => pending.release();
  return session.openCall(headers, head.endStream, handler, onConnected);
}
