/**
 * The client side of a call as the forward stage drives it: ProxyCall
 * implements it, the Forwarder and its strategies use it, so the forward
 * stage never touches the downstream stream itself.
 */
import type { IncomingHttpHeaders } from 'node:http2';
import type { ProxyError } from '../errors/proxy-error.js';
import type { RequestHead } from '../listener/downstream-call.js';
import type { Route } from '../router/route-table.js';
import type { Cluster } from '../upstream/cluster.js';

/** The client side of the call, as the forwarder drives it. */
export interface ClientSide {
  readonly head: RequestHead;
  /** The call ended with a local reply, or the client went away. */
  readonly over: boolean;
  /** Response headers went out. */
  readonly responded: boolean;
  /** performance.now() at which the call expires; undefined for none. */
  readonly deadline: number | undefined;
  respond(headers: IncomingHttpHeaders): void;
  /** A trailers-only reply, whole. */
  respondAndEnd(headers: IncomingHttpHeaders, grpcStatus: number | undefined): void;
  /** A response body chunk; false asks to pause the attempt until the client drains. */
  write(chunk: Buffer): boolean;
  /** The response's end, with the backend's trailers (`endpoint` names it in errors). */
  end(trailers: IncomingHttpHeaders | undefined, endpoint: string): void;
  pauseRequest(): void;
  resumeRequest(): void;
  /** Ends the call with a local reply; the forwarder is stopped by it. */
  fail(error: ProxyError): void;
}

export interface ForwardOptions {
  readonly cluster: Cluster;
  readonly route: Route;
  readonly requestId: string;
  readonly appendForwardedFor: boolean;
}
