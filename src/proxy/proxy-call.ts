/**
 * One call's straight line: accept → route → pick → admit → forward → record.
 *
 * A ProxyCall is the single handler of the client side of the call; the
 * forward stage and its upstream attempts (retries, hedges) are the
 * `Forwarder`'s, which reaches the client through this call (`ClientSide`).
 * Each stage either hands on to the next or ends the call with a
 * ProxyError, which becomes a local reply (`sendLocalReply`). The outcome is
 * classified once, when the client side closes, and given to every sink.
 */
import type { IncomingHttpHeaders } from 'node:http2';
import { ProxyError, toProxyError } from '../errors/proxy-error.js';
import { MessageSizeGuard } from '../grpc/message-size-guard.js';
import { GrpcStatus } from '../grpc/status.js';
import type {
  DownstreamCall,
  DownstreamHandler,
  RequestHead,
} from '../listener/downstream-call.js';
import type { OutcomeSink, OutcomeSource } from '../outcome/call-outcome.js';
import type { Route } from '../router/route-table.js';
import type { Cluster } from '../upstream/cluster.js';
import type { Endpoint } from '../upstream/endpoint.js';
import { grpcStatusOf, missingStatus, truncatedMessage } from './attempt-failure.js';
import { callTimeoutMs, deadlineExceeded } from './call-timeout.js';
import type { ClientSide } from './client-side.js';
import { callDeadlines, Deadlined } from './deadline-queue.js';
import { Forwarder } from './forwarder.js';
import { downstreamHeaders } from './header-rewrite.js';
import { sendLocalReply } from './local-reply.js';
import { requestIds } from './request-id.js';
import type { Snapshot } from './snapshot.js';

/** What a listener gives all its calls: where outcomes go, and its own settings. */
export interface CallEnvironment {
  readonly sink: OutcomeSink;
  /** Told once per call, right after routing (the route is undefined when none matched). */
  readonly routed: (head: RequestHead, route: Route | undefined) => void;
  readonly appendForwardedFor: boolean;
  /** The listener's `limits.max_message_size`; undefined for no limit. */
  readonly maxMessageBytes: number | undefined;
}

export class ProxyCall extends Deadlined implements DownstreamHandler, ClientSide {
  readonly #down: DownstreamCall;
  readonly #env: CallEnvironment;
  readonly #snapshot: Snapshot;
  readonly #startedAt = performance.now();
  readonly #requestId: string;
  #route: Route | undefined;
  #cluster: Cluster | undefined;
  /** The endpoint picked, until a forwarder exists to say which attempt answered. */
  #picked: Endpoint | undefined;
  #forwarder: Forwarder | undefined;
  /**
   * Follow each direction's length prefixes of a gRPC call: they count its
   * messages and enforce the listener's `max_message_size` (Infinity: none).
   * Only prefixes are read; message bodies are skipped.
   */
  readonly #requestGuard: MessageSizeGuard | undefined;
  readonly #responseGuard: MessageSizeGuard | undefined;
  #admitted = false;
  #deadline: number | undefined;
  #timeoutMs = 0;
  #finished = false;
  #source: OutcomeSource = 'upstream';
  #grpcStatus: number | undefined;
  #httpStatus: number | undefined;
  #error: ProxyError | undefined;
  #bytesIn = 0;
  #bytesOut = 0;

  /** `snapshot` is the config this call runs on to its end, read once at accept. */
  constructor(down: DownstreamCall, snapshot: Snapshot, env: CallEnvironment) {
    super();
    this.#down = down;
    this.#snapshot = snapshot;
    this.#env = env;
    if (down.head.isGrpc) {
      const limit = env.maxMessageBytes ?? Infinity;
      this.#requestGuard = new MessageSizeGuard(limit);
      this.#responseGuard = new MessageSizeGuard(limit);
    }
    const given = down.head.header('x-request-id');
    this.#requestId = given !== undefined && given !== '' ? given : requestIds.next();
  }

  /** Runs the call; every failure ends in a local reply, never a throw. */
  run(): void {
    this.#down.attach(this);
    try {
      const route = this.#routeCall();
      const clusterName = route.pickCluster();
      const cluster = this.#snapshot.clusters.get(clusterName);
      if (cluster === undefined) {
        throw new ProxyError(
          'internal',
          `route ${route.name} names missing cluster ${clusterName}`,
        );
      }
      this.#cluster = cluster;
      this.#startDeadline(route);
      const endpoint = this.#pick(cluster);
      this.#admit(cluster);
      this.#forwarder = new Forwarder(this, {
        cluster,
        route,
        requestId: this.#requestId,
        appendForwardedFor: this.#env.appendForwardedFor,
      });
      this.#forwarder.start(endpoint);
    } catch (error) {
      this.fail(toProxyError(error));
    }
  }

  // ── stages ──────────────────────────────────────────────────────────────

  #routeCall(): Route {
    const head = this.#down.head;
    const route = this.#snapshot.routes.match(head);
    this.#env.routed(head, route);
    if (route === undefined) {
      throw new ProxyError('no_route', `no route for ${head.path} (authority ${head.authority})`);
    }
    this.#route = route;
    if (route.grpcOnly && !head.isGrpc) {
      const type = head.headers['content-type'] ?? 'none';
      throw new ProxyError(
        'unsupported_media_type',
        `route ${route.name} takes gRPC only; content-type ${type} is not application/grpc`,
      );
    }
    return route;
  }

  /** Arms the call's deadline; on expiry DEADLINE_EXCEEDED and the backend streams are cancelled. */
  #startDeadline(route: Route): void {
    const timeoutMs = callTimeoutMs(this.#down.head, route);
    if (timeoutMs === undefined) return;
    this.#deadline = this.#startedAt + timeoutMs;
    this.#timeoutMs = timeoutMs;
    callDeadlines.add(this, this.#startedAt, timeoutMs);
  }

  /** The call's deadline passed (callDeadlines): DEADLINE_EXCEEDED, attempts cancelled. */
  onDeadline(): void {
    this.fail(deadlineExceeded(this.#timeoutMs));
  }

  #pick(cluster: Cluster): Endpoint {
    const endpoint = cluster.balancer.pick(this.#down.head);
    if (endpoint === undefined) {
      throw new ProxyError('no_healthy_endpoint', `no healthy endpoint in cluster ${cluster.name}`);
    }
    this.#picked = endpoint;
    return endpoint;
  }

  #admit(cluster: Cluster): void {
    if (!cluster.limits.requests.tryAcquire()) {
      throw cluster.limits.overflowError('max_requests');
    }
    this.#admitted = true;
  }

  // ── the client side, as the forwarder drives it (ClientSide) ───────────

  get head(): RequestHead {
    return this.#down.head;
  }

  get over(): boolean {
    return this.#error !== undefined || this.#finished;
  }

  get responded(): boolean {
    return this.#down.responded;
  }

  get deadline(): number | undefined {
    return this.#deadline;
  }

  respond(headers: IncomingHttpHeaders): void {
    this.#httpStatus = 200;
    this.#down.respond(downstreamHeaders(headers));
  }

  respondAndEnd(headers: IncomingHttpHeaders, grpcStatus: number | undefined): void {
    this.#httpStatus = Number(headers[':status']);
    this.#grpcStatus = grpcStatus;
    this.#down.respondAndEnd(downstreamHeaders(headers));
  }

  write(chunk: Buffer): boolean {
    this.#bytesOut += chunk.length;
    if (
      this.#responseGuard !== undefined &&
      this.#tooLarge(this.#responseGuard, chunk, 'response')
    ) {
      return true;
    }
    return this.#down.write(chunk);
  }

  end(trailers: IncomingHttpHeaders | undefined, endpoint: string): void {
    if (this.over) return;
    if (this.#down.head.isGrpc) {
      this.#grpcStatus = trailers === undefined ? undefined : grpcStatusOf(trailers);
      if (this.#grpcStatus === undefined) {
        this.fail(missingStatus(endpoint));
        return;
      }
      const missing = this.#responseGuard?.missingBytes ?? 0;
      if (missing > 0 && this.#grpcStatus === GrpcStatus.OK) {
        // An OK that cuts a message short is no OK (PROTOCOL-HTTP2.md: INTERNAL).
        this.fail(truncatedMessage(endpoint, missing));
        return;
      }
    }
    this.#down.end(trailers === undefined ? undefined : downstreamHeaders(trailers));
  }

  pauseRequest(): void {
    this.#down.pauseRequest();
  }

  resumeRequest(): void {
    this.#down.resumeRequest();
  }

  // ── client side events ─────────────────────────────────────────────────

  onRequestData(chunk: Buffer): void {
    this.#bytesIn += chunk.length;
    if (this.#requestGuard !== undefined && this.#tooLarge(this.#requestGuard, chunk, 'request')) {
      return;
    }
    this.#forwarder?.requestData(chunk);
  }

  onRequestEnd(): void {
    this.#forwarder?.requestEnd();
  }

  onResponseDrain(): void {
    this.#forwarder?.resumeResponse();
  }

  onDownstreamClose(complete: boolean): void {
    if (!complete && this.#error === undefined) {
      this.#forwarder?.stop();
      this.#source = 'cancelled';
      this.#error = new ProxyError('downstream_cancelled', 'client cancelled the call');
    }
    this.#finish();
  }

  // ── endings ────────────────────────────────────────────────────────────

  /** Ends the call with RESOURCE_EXHAUSTED if `chunk` carries an oversized message. */
  #tooLarge(guard: MessageSizeGuard, chunk: Buffer, direction: string): boolean {
    if (this.#error !== undefined) return true;
    const length = guard.check(chunk);
    if (length === undefined) return false;
    this.fail(
      new ProxyError(
        'message_too_large',
        `${direction} message of ${length} bytes exceeds max_message_size ${guard.limit}`,
      ),
    );
    return true;
  }

  /**
   * CancelCall: the listener's grace period ran out with the call in flight;
   * the backend streams are cancelled, the client gets UNAVAILABLE.
   */
  cancel(): void {
    this.fail(new ProxyError('shutting_down', 'the proxy is shutting down'));
  }

  /** Ends the call with a local reply for this error (once); every attempt is cancelled. */
  fail(error: ProxyError): void {
    if (this.over) return;
    this.#error = error;
    this.#source = 'local';
    this.#forwarder?.stop();
    this.#grpcStatus = this.#down.head.isGrpc ? error.grpcStatus : undefined;
    if (!this.#down.responded) this.#httpStatus = this.#down.head.isGrpc ? 200 : error.httpStatus;
    try {
      sendLocalReply(this.#down, error);
    } catch {
      this.#down.reset(2 /* INTERNAL_ERROR */);
    }
  }

  #finish(): void {
    if (this.#finished) return;
    this.#finished = true;
    callDeadlines.remove(this);
    const forwarder = this.#forwarder;
    forwarder?.finish();
    if (this.#admitted) this.#cluster?.limits.requests.release();
    const head = this.#down.head;
    const error = this.#error;
    const endpoint = forwarder?.endpoint ?? this.#picked;
    this.#env.sink.record({
      requestId: this.#requestId,
      listener: head.listener,
      clientSubject: head.clientSubject,
      method: head.method,
      path: head.path,
      authority: head.authority,
      grpc: head.isGrpc,
      route: this.#route?.name,
      grpcRoute: this.#route?.grpcOnly ?? false,
      cluster: this.#cluster?.name,
      endpoint: endpoint?.address,
      endpointRef: endpoint,
      source: this.#source,
      grpcStatus: this.#source === 'cancelled' ? GrpcStatus.CANCELLED : this.#grpcStatus,
      httpStatus: this.#httpStatus,
      error: error?.code,
      errorMessage: error?.message,
      durationMs: performance.now() - this.#startedAt,
      bytesIn: this.#bytesIn,
      bytesOut: this.#bytesOut,
      messagesIn: this.#requestGuard?.messages ?? 0,
      messagesOut: this.#responseGuard?.messages ?? 0,
      attempts: forwarder?.attemptsMade ?? 0,
      retries: forwarder?.retries ?? 0,
      earlierAttempts: forwarder?.earlierAttempts ?? [],
    });
  }
}
