/**
 * One call's straight line: accept → route → pick → admit → forward → record.
 *
 * A ProxyCall is the single handler of both sides of the call. Each stage
 * either hands on to the next or ends the call with a ProxyError, which
 * becomes a local reply (`sendLocalReply`). The outcome is classified once,
 * when the client side closes, and given to every sink.
 *
 * Forward may take several attempts, one at a time. Until the call is
 * *committed* (a response message or its trailers forwarded, the request
 * beyond the replay buffer, or the route's retry `hold` passed) a failed
 * attempt can be retried: transparently when the backend never saw it
 * (gRFC A6), or under the route's retry policy. While a retry is possible
 * the response headers are held rather than forwarded (docs/retries.md).
 */
import { randomUUID } from 'node:crypto';
import type { IncomingHttpHeaders } from 'node:http2';
import { ProxyError, toProxyError } from '../errors/proxy-error.js';
import { grpcStatusFromHttpStatus, isGrpcContentType } from '../grpc/http-status-mapping.js';
import { formatGrpcTimeout } from '../grpc/grpc-timeout.js';
import { GrpcStatus, parseGrpcStatusHeader } from '../grpc/status.js';
import type {
  DownstreamCall,
  DownstreamHandler,
  RequestHead,
} from '../listener/downstream-call.js';
import type { OutcomeSink, OutcomeSource } from '../outcome/call-outcome.js';
import type { Route } from '../router/route-table.js';
import type { Cluster } from '../upstream/cluster.js';
import type { Endpoint } from '../upstream/endpoint.js';
import { Http2UpstreamCall } from '../upstream/http2-upstream-call.js';
import type { UpstreamCall } from '../upstream/upstream-call.js';
import type { Snapshot } from './snapshot.js';
import { downstreamHeaders, upstreamRequestHeaders } from './header-rewrite.js';
import { callTimeoutMs, deadlineExceeded } from './call-timeout.js';
import { MessageSizeGuard } from '../grpc/message-size-guard.js';
import { parsePushback, type Pushback } from '../grpc/retry-pushback.js';
import type { AttemptRecord } from '../outcome/attempt-record.js';
import { CallRetries } from '../retry/call-retries.js';
import { sendLocalReply } from './local-reply.js';
import { ReplayBuffer } from './replay-buffer.js';
import { UpstreamAttempt, type AttemptOwner } from './upstream-attempt.js';

/** What a listener gives all its calls: where outcomes go, and its own settings. */
export interface CallEnvironment {
  readonly sink: OutcomeSink;
  /** Told once per call, right after routing (the route is undefined when none matched). */
  readonly routed: (head: RequestHead, route: Route | undefined) => void;
  readonly appendForwardedFor: boolean;
  /** The listener's `limits.max_message_size`; undefined for no limit. */
  readonly maxMessageBytes: number | undefined;
}

/**
 * Request bytes kept for a transparent retry (a call the backend never saw).
 * Beyond this a call that hits a refused stream or a dead endpoint fails
 * instead of being replayed.
 */
const TRANSPARENT_RETRY_BUFFER = 64 * 1024;
/** Endpoints tried for one call whose connections fail, at most. */
const MAX_CONNECT_ATTEMPTS = 3;
/** Balancer picks a retry makes to find an endpoint the call has not tried. */
const RETRY_PICKS = 3;

/** A failed attempt as the call may still have to forward it, should no retry follow. */
type AttemptFailure =
  | {
      readonly kind: 'reply';
      readonly grpcStatus: number;
      readonly headers: IncomingHttpHeaders;
      readonly trailers: IncomingHttpHeaders | undefined;
    }
  | { readonly kind: 'error'; readonly error: ProxyError };

const NO_PUSHBACK: Pushback = { kind: 'none' };

export class ProxyCall implements DownstreamHandler, AttemptOwner {
  readonly #down: DownstreamCall;
  readonly #env: CallEnvironment;
  readonly #snapshot: Snapshot;
  readonly #startedAt = performance.now();
  readonly #requestId: string;
  #route: Route | undefined;
  #cluster: Cluster | undefined;
  /** The route's retry policy at work for this call; undefined without one. */
  #retries: CallRetries | undefined;
  #endpoint: Endpoint | undefined;
  /** The endpoint whose in-flight count the current attempt holds (ended in `#finish`). */
  #inFlightOn: Endpoint | undefined;
  #up: UpstreamCall | undefined;
  #attempt: UpstreamAttempt | undefined;
  #attemptStartedAt = 0;
  #attempts = 0;
  readonly #earlierAttempts: AttemptRecord[] = [];
  #connectFailures = 0;
  #refusedRetried = false;
  /** No retry any more: the call's reply is the current attempt's. */
  #committed = false;
  /** Response headers of the current attempt, held while a retry is possible. */
  #heldHeaders: IncomingHttpHeaders | undefined;
  #holdTimer: NodeJS.Timeout | undefined;
  #perTryTimer: NodeJS.Timeout | undefined;
  /** Waiting out a retry's back-off: no attempt is open. */
  #backoffTimer: NodeJS.Timeout | undefined;
  /** The attempt given up last, forwarded as it came if its retry cannot run. */
  #lastFailure: AttemptFailure | undefined;
  #replay = new ReplayBuffer(TRANSPARENT_RETRY_BUFFER);
  /** Set only when the listener limits message size (parsing costs CPU). */
  readonly #requestGuard: MessageSizeGuard | undefined;
  readonly #responseGuard: MessageSizeGuard | undefined;
  #trailers: IncomingHttpHeaders | undefined;
  #admitted = false;
  /** performance.now() at which the call expires; undefined for no deadline. */
  #deadline: number | undefined;
  #deadlineTimer: NodeJS.Timeout | undefined;
  #finished = false;
  #source: OutcomeSource = 'upstream';
  #grpcStatus: number | undefined;
  #httpStatus: number | undefined;
  #error: ProxyError | undefined;
  #bytesIn = 0;
  #bytesOut = 0;

  /** `snapshot` is the config this call runs on to its end, read once at accept. */
  constructor(down: DownstreamCall, snapshot: Snapshot, env: CallEnvironment) {
    this.#down = down;
    this.#snapshot = snapshot;
    this.#env = env;
    const limit = env.maxMessageBytes;
    if (limit !== undefined && down.head.isGrpc) {
      this.#requestGuard = new MessageSizeGuard(limit);
      this.#responseGuard = new MessageSizeGuard(limit);
    }
    const given = down.head.headers['x-request-id'];
    this.#requestId = typeof given === 'string' && given !== '' ? given : randomUUID();
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
      if (route.retry !== undefined) {
        const limits = cluster.limits;
        this.#retries = new CallRetries(route.retry, {
          budget: limits.retries,
          activeCalls: () => limits.requests.inFlight,
        });
        this.#replay = new ReplayBuffer(route.retry.bufferLimit);
      }
      this.#startDeadline(route);
      const endpoint = this.#pick(cluster);
      this.#admit(cluster);
      this.#forward(cluster, endpoint);
    } catch (error) {
      this.#fail(toProxyError(error));
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

  /** Arms the call's deadline; on expiry DEADLINE_EXCEEDED and the backend stream is cancelled. */
  #startDeadline(route: Route): void {
    const timeoutMs = callTimeoutMs(this.#down.head, route);
    if (timeoutMs === undefined) return;
    this.#deadline = this.#startedAt + timeoutMs;
    this.#deadlineTimer = setTimeout(() => {
      this.#up?.cancel();
      this.#fail(deadlineExceeded(timeoutMs));
    }, timeoutMs);
  }

  #pick(cluster: Cluster): Endpoint {
    const endpoint = cluster.balancer.pick({ headers: this.#down.head.headers });
    if (endpoint === undefined) {
      throw new ProxyError('no_healthy_endpoint', `no healthy endpoint in cluster ${cluster.name}`);
    }
    this.#endpoint = endpoint;
    return endpoint;
  }

  #admit(cluster: Cluster): void {
    if (!cluster.limits.requests.tryAcquire()) {
      throw cluster.limits.overflowError('max_requests');
    }
    this.#admitted = true;
  }

  /**
   * Opens an attempt on `endpoint` and replays what the client sent so far.
   * A failure to even open it (endpoint in reconnect back-off, session
   * gone, a cluster limit) goes the same way as a failure reported later.
   */
  #forward(cluster: Cluster, endpoint: Endpoint): void {
    // Each attempt counts on its endpoint's in-flight calls exactly once.
    endpoint.callStarted();
    this.#inFlightOn = endpoint;
    this.#endpoint = endpoint;
    this.#attempts++;
    this.#attemptStartedAt = performance.now();
    const attempt = new UpstreamAttempt(this);
    this.#attempt = attempt;
    try {
      this.#up = this.#openUpstream(cluster, endpoint, attempt);
    } catch (error) {
      this.#up = undefined;
      this.onUpstreamError(toProxyError(error));
      return;
    }
    this.#armPerTryTimeout(attempt, endpoint);
    if (this.#attempts > 1) this.#replayRequest();
  }

  #openUpstream(cluster: Cluster, endpoint: Endpoint, attempt: UpstreamAttempt): UpstreamCall {
    const head = this.#down.head;
    const headers = upstreamRequestHeaders(head, {
      authority: cluster.authority,
      appendForwardedFor: this.#env.appendForwardedFor,
      requestId: this.#requestId,
    });
    if (this.#deadline !== undefined) {
      headers['grpc-timeout'] = formatGrpcTimeout(this.#deadline - performance.now());
    }
    const retries = this.#retries?.retries ?? 0;
    if (retries > 0) headers['grpc-previous-rpc-attempts'] = String(retries);
    const session = endpoint.pool.acquire();
    // A call whose session is still connecting is pending (circuit_breaker.max_pending).
    const pending = session.ready ? undefined : cluster.limits.pending;
    if (pending !== undefined && !pending.tryAcquire()) {
      throw cluster.limits.overflowError('max_pending');
    }
    const onConnected = pending === undefined ? undefined : () => pending.release();
    return new Http2UpstreamCall(session, headers, head.endStream, attempt, onConnected);
  }

  #replayRequest(): void {
    const up = this.#up;
    const chunks = this.#replay.chunks;
    if (up === undefined || chunks === undefined || this.#down.head.endStream) return;
    for (const chunk of chunks) up.write(chunk);
    if (this.#replay.ended) up.end();
    this.#down.resumeRequest();
  }

  /** Until the call commits, an attempt gets `per_try_timeout` to answer; then it is retried. */
  #armPerTryTimeout(attempt: UpstreamAttempt, endpoint: Endpoint): void {
    const timeoutMs = this.#retries?.policy.perTryTimeoutMs;
    if (timeoutMs === undefined || this.#committed) return;
    this.#perTryTimer = setTimeout(() => {
      this.#perTryTimer = undefined;
      if (this.#attempt !== attempt || this.#committed) return;
      this.#up?.cancel();
      this.onUpstreamError(
        new ProxyError(
          'upstream_timeout',
          `upstream ${endpoint.address} did not reply within per_try_timeout ${timeoutMs}ms`,
        ),
      );
    }, timeoutMs);
  }

  // ── retries ────────────────────────────────────────────────────────────

  /** Whether the call can still go to another attempt at all. */
  #replayable(): boolean {
    return !this.#committed && this.#error === undefined && !this.#finished && this.#replay.intact;
  }

  /**
   * gRFC A6 transparent retry: a call the backend never saw is replayed,
   * without counting as a retry attempt. A connect failure tries other
   * endpoints (the failed one is held out by its pool's back-off), a refused
   * stream is retried once. Never after the call committed, never when the
   * request outgrew the replay buffer, never past the deadline.
   */
  #retryTransparently(error: ProxyError): boolean {
    const cluster = this.#cluster;
    if (cluster === undefined || !this.#replayable()) return false;
    if (error.code === 'upstream_connect_failed') {
      if (++this.#connectFailures >= MAX_CONNECT_ATTEMPTS) return false;
    } else if (error.code === 'upstream_refused_stream') {
      if (this.#refusedRetried) return false;
      this.#refusedRetried = true;
    } else {
      return false;
    }
    const endpoint = cluster.balancer.pick({ headers: this.#down.head.headers });
    if (endpoint === undefined) return false;
    this.#giveUpAttempt({ kind: 'error', error }, 'transparent');
    this.#forward(cluster, endpoint);
    return true;
  }

  /** A reply with a non-OK status before commit: retried when the policy and pushback allow. */
  #retryAfterReply(
    grpcStatus: number,
    headers: IncomingHttpHeaders,
    trailers: IncomingHttpHeaders | undefined,
  ): boolean {
    if (grpcStatus === GrpcStatus.OK || this.#retries?.policy.retriesStatus(grpcStatus) !== true) {
      return false;
    }
    const pushback = parsePushback((trailers ?? headers)['grpc-retry-pushback-ms']);
    return this.#retry({ kind: 'reply', grpcStatus, headers, trailers }, pushback);
  }

  #retryAfterError(error: ProxyError): boolean {
    if (this.#retries?.policy.retriesError(error) !== true) return false;
    return this.#retry({ kind: 'error', error }, NO_PUSHBACK);
  }

  /** Gives up the current attempt and starts another after the back-off, when one may run. */
  #retry(failure: AttemptFailure, pushback: Pushback): boolean {
    const retries = this.#retries;
    if (retries === undefined || !this.#replayable()) return false;
    const decision = retries.next(pushback, performance.now(), this.#deadline);
    if (typeof decision !== 'number') return false;
    this.#giveUpAttempt(failure, 'retry');
    this.#backoffTimer = setTimeout(() => this.#startRetry(), decision);
    return true;
  }

  #startRetry(): void {
    this.#backoffTimer = undefined;
    const cluster = this.#cluster;
    if (cluster === undefined || this.#error !== undefined || this.#finished) return;
    const endpoint = this.#pickForRetry(cluster);
    if (endpoint === undefined) this.#forwardLastFailure();
    else this.#forward(cluster, endpoint);
  }

  /** A retry goes to an endpoint the call has not tried yet, when the balancer offers one. */
  #pickForRetry(cluster: Cluster): Endpoint | undefined {
    const tried = new Set(this.#earlierAttempts.map((a) => a.endpointRef));
    let endpoint: Endpoint | undefined;
    for (let pick = 0; pick < RETRY_PICKS; pick++) {
      endpoint = cluster.balancer.pick({ headers: this.#down.head.headers });
      if (endpoint === undefined || !tried.has(endpoint)) break;
    }
    return endpoint;
  }

  /** Ends the current attempt (cancelled if still open) and records how it failed. */
  #giveUpAttempt(failure: AttemptFailure, then: AttemptRecord['then']): void {
    this.#clearAttemptTimers();
    this.#heldHeaders = undefined;
    this.#up?.cancel();
    this.#up = undefined;
    this.#attempt = undefined;
    this.#trailers = undefined;
    const endpoint = this.#inFlightOn;
    this.#inFlightOn = undefined;
    if (endpoint !== undefined) {
      endpoint.attemptAbandoned();
      this.#earlierAttempts.push(attemptRecord(endpoint, failure, this.#attemptStartedAt, then));
    }
    this.#lastFailure = failure;
  }

  /** The retry cannot run after all: the client gets the last attempt's failure, as it came. */
  #forwardLastFailure(): void {
    const failure = this.#lastFailure;
    // Its record becomes the call's own outcome again.
    this.#earlierAttempts.pop();
    this.#committed = true;
    this.#retries?.release();
    if (failure === undefined || failure.kind === 'error') {
      this.#fail(failure?.error ?? new ProxyError('internal', 'retry lost its failure'));
      return;
    }
    this.#httpStatus = 200;
    this.#grpcStatus = failure.grpcStatus;
    if (failure.trailers === undefined) {
      this.#down.respondAndEnd(downstreamHeaders(failure.headers));
      return;
    }
    this.#down.respond(downstreamHeaders(failure.headers));
    this.#down.end(downstreamHeaders(failure.trailers));
  }

  /**
   * No retry any more: forwards held response headers, frees the replay
   * buffer and the retry slot, stops the per-try timeout.
   */
  #commit(): void {
    if (this.#committed) return;
    this.#committed = true;
    this.#clearAttemptTimers();
    this.#retries?.release();
    this.#replay.drop();
    const held = this.#heldHeaders;
    this.#heldHeaders = undefined;
    if (held !== undefined && this.#error === undefined && !this.#finished) {
      this.#down.respond(downstreamHeaders(held));
    }
  }

  /** Holds response headers for at most `hold` while a retry may still follow; else forwards them. */
  #holdOrForward(headers: IncomingHttpHeaders): void {
    const retries = this.#retries;
    if (
      retries === undefined ||
      !this.#replayable() ||
      !retries.possible(performance.now(), this.#deadline)
    ) {
      this.#commit();
      this.#down.respond(downstreamHeaders(headers));
      return;
    }
    this.#heldHeaders = headers;
    this.#holdTimer = setTimeout(() => {
      this.#holdTimer = undefined;
      this.#commit();
    }, retries.policy.holdMs);
  }

  /** The request outgrew the replay buffer: no retry can replay it now. */
  #replayLost(): void {
    if (this.#committed) return;
    if (this.#backoffTimer === undefined) {
      this.#commit();
      return;
    }
    clearTimeout(this.#backoffTimer);
    this.#backoffTimer = undefined;
    this.#forwardLastFailure();
  }

  #clearAttemptTimers(): void {
    clearTimeout(this.#holdTimer);
    clearTimeout(this.#perTryTimer);
    this.#holdTimer = undefined;
    this.#perTryTimer = undefined;
  }

  get currentAttempt(): UpstreamAttempt | undefined {
    return this.#attempt;
  }

  // ── client side events ─────────────────────────────────────────────────

  onRequestData(chunk: Buffer): void {
    this.#bytesIn += chunk.length;
    if (this.#requestGuard !== undefined && this.#tooLarge(this.#requestGuard, chunk, 'request')) {
      return;
    }
    if (!this.#committed) {
      this.#replay.append(chunk);
      if (!this.#replay.intact) this.#replayLost();
    }
    const up = this.#up;
    if (up !== undefined && !up.write(chunk)) this.#down.pauseRequest();
  }

  onRequestEnd(): void {
    this.#replay.end();
    this.#up?.end();
  }

  onResponseDrain(): void {
    this.#up?.resumeResponse();
  }

  onDownstreamClose(complete: boolean): void {
    if (!complete && this.#error === undefined) {
      this.#up?.cancel();
      this.#source = 'cancelled';
      this.#error = new ProxyError('downstream_cancelled', 'client cancelled the call');
    }
    this.#finish();
  }

  // ── backend side events ────────────────────────────────────────────────

  onResponse(headers: IncomingHttpHeaders, endStream: boolean): void {
    // node:http2 gives :status as a number although the type says string.
    const status = Number(headers[':status']);
    if (this.#down.head.isGrpc && (status !== 200 || !isGrpcContentType(headers['content-type']))) {
      this.#up?.cancel();
      this.onUpstreamError(
        nonGrpcReply(status, headers['content-type'], this.#endpoint?.address ?? ''),
      );
      return;
    }
    this.#httpStatus = status;
    if (!endStream) {
      this.#holdOrForward(headers);
      return;
    }
    const grpcStatus = grpcStatusOf(headers);
    if (grpcStatus === undefined && this.#down.head.isGrpc) {
      this.onUpstreamError(missingStatus(this.#endpoint?.address ?? ''));
      return;
    }
    if (grpcStatus !== undefined && this.#retryAfterReply(grpcStatus, headers, undefined)) return;
    this.#commit();
    this.#grpcStatus = grpcStatus;
    this.#down.respondAndEnd(downstreamHeaders(headers));
  }

  onResponseData(chunk: Buffer): void {
    this.#bytesOut += chunk.length;
    if (
      this.#responseGuard !== undefined &&
      this.#tooLarge(this.#responseGuard, chunk, 'response')
    ) {
      return;
    }
    // The first response message commits the call (and sends held headers).
    this.#commit();
    if (!this.#down.write(chunk)) this.#up?.pauseResponse();
  }

  onTrailers(trailers: IncomingHttpHeaders): void {
    this.#trailers = trailers;
  }

  onResponseEnd(): void {
    if (this.#error !== undefined) return;
    const held = this.#heldHeaders;
    const trailers = this.#trailers;
    if (held !== undefined) {
      // Headers held and no message: the trailers decide between a retry and forwarding both.
      const status = trailers === undefined ? undefined : grpcStatusOf(trailers);
      if (status !== undefined && this.#retryAfterReply(status, held, trailers)) return;
      this.#commit();
    }
    if (!this.#down.responded) {
      // The stream ended (e.g. RST_STREAM(NO_ERROR)) before any response headers.
      this.onUpstreamError(
        new ProxyError(
          'upstream_reset',
          `upstream ${this.#endpoint?.address ?? ''} closed the stream without a response`,
        ),
      );
      return;
    }
    if (this.#grpcStatus !== undefined) return; // trailers-only: already sent whole
    if (this.#down.head.isGrpc) {
      this.#grpcStatus = trailers === undefined ? undefined : grpcStatusOf(trailers);
      if (this.#grpcStatus === undefined) {
        this.#fail(missingStatus(this.#endpoint?.address ?? ''));
        return;
      }
    }
    this.#down.end(trailers === undefined ? undefined : downstreamHeaders(trailers));
  }

  onRequestDrain(): void {
    this.#down.resumeRequest();
  }

  onUpstreamError(error: ProxyError): void {
    if (this.#retryTransparently(error) || this.#retryAfterError(error)) return;
    this.#fail(error);
  }

  // ── endings ────────────────────────────────────────────────────────────

  /** Ends the call with RESOURCE_EXHAUSTED if `chunk` carries an oversized message. */
  #tooLarge(guard: MessageSizeGuard, chunk: Buffer, direction: string): boolean {
    if (this.#error !== undefined) return true;
    const length = guard.check(chunk);
    if (length === undefined) return false;
    this.#up?.cancel();
    this.#fail(
      new ProxyError(
        'message_too_large',
        `${direction} message of ${length} bytes exceeds max_message_size ${guard.limit}`,
      ),
    );
    return true;
  }

  /** Ends the call from outside (shutdown): the backend stream is cancelled, the client gets `error`. */
  abort(error: ProxyError): void {
    this.#up?.cancel();
    this.#fail(error);
  }

  /** Ends the call with a local reply for this error (once). */
  #fail(error: ProxyError): void {
    if (this.#error !== undefined || this.#finished) return;
    this.#error = error;
    this.#source = 'local';
    this.#stopRetrying();
    this.#grpcStatus = this.#down.head.isGrpc ? error.grpcStatus : undefined;
    if (!this.#down.responded) this.#httpStatus = this.#down.head.isGrpc ? 200 : error.httpStatus;
    try {
      sendLocalReply(this.#down, error);
    } catch {
      this.#down.reset(2 /* INTERNAL_ERROR */);
    }
  }

  /** No more attempts: timers stopped, held headers dropped, retry slot given back. */
  #stopRetrying(): void {
    this.#clearAttemptTimers();
    clearTimeout(this.#backoffTimer);
    this.#backoffTimer = undefined;
    this.#heldHeaders = undefined;
    this.#retries?.release();
  }

  #finish(): void {
    if (this.#finished) return;
    this.#finished = true;
    clearTimeout(this.#deadlineTimer);
    this.#stopRetrying();
    this.#up?.cancel();
    this.#inFlightOn?.callEnded();
    this.#inFlightOn = undefined;
    if (this.#admitted) this.#cluster?.limits.requests.release();
    const head = this.#down.head;
    const error = this.#error;
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
      endpoint: this.#endpoint?.address,
      endpointRef: this.#endpoint,
      source: this.#source,
      grpcStatus: this.#source === 'cancelled' ? GrpcStatus.CANCELLED : this.#grpcStatus,
      httpStatus: this.#httpStatus,
      error: error?.code,
      errorMessage: error?.message,
      durationMs: performance.now() - this.#startedAt,
      bytesIn: this.#bytesIn,
      bytesOut: this.#bytesOut,
      attempts: this.#attempts,
      retries: this.#retries?.retries ?? 0,
      earlierAttempts: this.#earlierAttempts,
    });
  }
}

function attemptRecord(
  endpoint: Endpoint,
  failure: AttemptFailure,
  startedAt: number,
  then: AttemptRecord['then'],
): AttemptRecord {
  const reply = failure.kind === 'reply';
  return {
    endpoint: endpoint.address,
    endpointRef: endpoint,
    source: reply ? 'upstream' : 'local',
    grpcStatus: reply ? failure.grpcStatus : failure.error.grpcStatus,
    httpStatus: reply ? 200 : undefined,
    error: reply ? undefined : failure.error.code,
    durationMs: performance.now() - startedAt,
    then,
  };
}

function grpcStatusOf(headers: IncomingHttpHeaders): number | undefined {
  const value = headers['grpc-status'];
  return typeof value === 'string' ? parseGrpcStatusHeader(value) : undefined;
}

/** A gRPC call answered with a non-gRPC reply (http-grpc-status-mapping.md). */
function nonGrpcReply(
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
function missingStatus(endpoint: string): ProxyError {
  return new ProxyError(
    'upstream_protocol_error',
    `upstream ${endpoint} ended the response without a valid grpc-status`,
    { grpcStatus: GrpcStatus.UNKNOWN },
  );
}
