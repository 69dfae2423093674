/**
 * One call's straight line: accept → route → pick → admit → forward → record.
 *
 * A ProxyCall is the single handler of both sides of the call. Each stage
 * either hands on to the next or ends the call with a ProxyError, which
 * becomes a local reply (`sendLocalReply`). The outcome is classified once,
 * when the client side closes, and given to every sink.
 *
 * Forward may take several attempts (`UpstreamAttempt`). Until the call is
 * *committed* to one, a failed attempt can be replaced: transparently when
 * the backend never saw it (gRFC A6), after a back-off under the route's
 * `retry` policy, or by the next staggered attempt under its `hedge`
 * policy (several run at once; the first to answer wins). A retried call
 * holds response headers while a retry is still possible (docs/retries.md).
 */
import { randomUUID } from 'node:crypto';
import type { IncomingHttpHeaders } from 'node:http2';
import { ProxyError, toProxyError } from '../errors/proxy-error.js';
import { isGrpcContentType } from '../grpc/http-status-mapping.js';
import { formatGrpcTimeout } from '../grpc/grpc-timeout.js';
import { MessageSizeGuard } from '../grpc/message-size-guard.js';
import { parsePushback, type Pushback } from '../grpc/retry-pushback.js';
import { GrpcStatus } from '../grpc/status.js';
import type {
  DownstreamCall,
  DownstreamHandler,
  RequestHead,
} from '../listener/downstream-call.js';
import type { AttemptRecord } from '../outcome/attempt-record.js';
import type { OutcomeSink, OutcomeSource } from '../outcome/call-outcome.js';
import { CallRetries } from '../retry/call-retries.js';
import type { HedgePolicy } from '../retry/hedge-policy.js';
import type { Route } from '../router/route-table.js';
import type { Cluster } from '../upstream/cluster.js';
import type { Endpoint } from '../upstream/endpoint.js';
import { Http2UpstreamCall } from '../upstream/http2-upstream-call.js';
import type { UpstreamCall } from '../upstream/upstream-call.js';
import {
  attemptRecord,
  grpcStatusOf,
  missingStatus,
  nonGrpcReply,
  type AttemptFailure,
} from './attempt-failure.js';
import { callTimeoutMs, deadlineExceeded } from './call-timeout.js';
import { downstreamHeaders, upstreamRequestHeaders } from './header-rewrite.js';
import { sendLocalReply } from './local-reply.js';
import { ReplayBuffer } from './replay-buffer.js';
import type { Snapshot } from './snapshot.js';
import { UpstreamAttempt, type AttemptKind, type AttemptOwner } from './upstream-attempt.js';

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
 * Request bytes kept for a transparent retry (a call the backend never saw)
 * on a route without a retry or hedge policy. Beyond this a call that hits a
 * refused stream or a dead endpoint fails instead of being replayed.
 */
const TRANSPARENT_RETRY_BUFFER = 64 * 1024;
/** Endpoints tried for one call whose connections fail, at most. */
const MAX_CONNECT_ATTEMPTS = 3;
/** Balancer picks made to find an endpoint the call has not tried. */
const UNTRIED_PICKS = 3;

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
  /** The route's hedging policy; undefined without one (never with #retries). */
  #hedge: HedgePolicy | undefined;
  /** Attempts open now, oldest first: one, or several while hedging. */
  #live: UpstreamAttempt[] = [];
  /** The attempt the call committed to; its reply is the client's. */
  #winner: UpstreamAttempt | undefined;
  /** The endpoint of the attempt the outcome describes (winner, else the latest). */
  #endpoint: Endpoint | undefined;
  #attemptsMade = 0;
  /** The first attempt and hedges: what `hedge.max_attempts` counts (transparent ones not). */
  #hedgeAttempts = 0;
  readonly #earlierAttempts: AttemptRecord[] = [];
  #connectFailures = 0;
  #refusedRetried = false;
  /** No other attempt any more: the client's reply is the winner's. */
  #committed = false;
  /** A retry's back-off or the next hedge's delay. */
  #nextAttemptTimer: NodeJS.Timeout | undefined;
  /** The attempt given up last and how, forwarded as it came if no other can answer. */
  #lastFailure: { readonly attempt: UpstreamAttempt; readonly failure: AttemptFailure } | undefined;
  #replay = new ReplayBuffer(TRANSPARENT_RETRY_BUFFER);
  /** Set only when the listener limits message size (parsing costs CPU). */
  readonly #requestGuard: MessageSizeGuard | undefined;
  readonly #responseGuard: MessageSizeGuard | undefined;
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
      this.#applyPolicies(route, cluster);
      this.#startDeadline(route);
      const endpoint = this.#pick(cluster);
      this.#admit(cluster);
      this.#startAttempt(cluster, endpoint, 'first');
      this.#scheduleHedge();
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

  /** The route's retry or hedge policy, and the replay buffer it needs. */
  #applyPolicies(route: Route, cluster: Cluster): void {
    if (route.retry !== undefined) {
      const limits = cluster.limits;
      this.#retries = new CallRetries(route.retry, {
        budget: limits.retries,
        activeCalls: () => limits.requests.inFlight,
      });
      this.#replay = new ReplayBuffer(route.retry.bufferLimit);
    } else if (route.hedge !== undefined) {
      this.#hedge = route.hedge;
      this.#replay = new ReplayBuffer(route.hedge.bufferLimit);
    }
  }

  /** Arms the call's deadline; on expiry DEADLINE_EXCEEDED and the backend streams are cancelled. */
  #startDeadline(route: Route): void {
    const timeoutMs = callTimeoutMs(this.#down.head, route);
    if (timeoutMs === undefined) return;
    this.#deadline = this.#startedAt + timeoutMs;
    this.#deadlineTimer = setTimeout(() => {
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
  #startAttempt(cluster: Cluster, endpoint: Endpoint, kind: AttemptKind, budgetSlot = false): void {
    // Each attempt counts on its endpoint's in-flight calls exactly once.
    endpoint.callStarted();
    const attempt = new UpstreamAttempt(this, endpoint, kind);
    attempt.budgetSlot = budgetSlot;
    this.#live.push(attempt);
    this.#attemptsMade++;
    if (kind === 'first' || kind === 'hedge') this.#hedgeAttempts++;
    this.#endpoint = endpoint;
    try {
      attempt.up = this.#openUpstream(cluster, endpoint, attempt);
    } catch (error) {
      this.onAttemptError(attempt, toProxyError(error));
      return;
    }
    this.#armPerTryTimeout(attempt);
    this.#replayTo(attempt);
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
    const previous = this.#retries?.retries ?? Math.max(0, this.#hedgeAttempts - 1);
    if (previous > 0) headers['grpc-previous-rpc-attempts'] = String(previous);
    const session = endpoint.pool.acquire();
    // A call whose session is still connecting is pending (circuit_breaker.max_pending).
    const pending = session.ready ? undefined : cluster.limits.pending;
    if (pending !== undefined && !pending.tryAcquire()) {
      throw cluster.limits.overflowError('max_pending');
    }
    const onConnected = pending === undefined ? undefined : () => pending.release();
    return new Http2UpstreamCall(session, headers, head.endStream, attempt, onConnected);
  }

  /** Sends a new attempt what the client has sent so far. */
  #replayTo(attempt: UpstreamAttempt): void {
    const up = attempt.up;
    const chunks = this.#replay.chunks;
    if (up === undefined || chunks === undefined || this.#down.head.endStream) return;
    for (const chunk of chunks) if (!up.write(chunk)) attempt.congested = true;
    if (this.#replay.ended) up.end();
  }

  /** Until the call commits, an attempt gets `per_try_timeout` to answer; then it is retried. */
  #armPerTryTimeout(attempt: UpstreamAttempt): void {
    const timeoutMs = this.#retries?.policy.perTryTimeoutMs;
    if (timeoutMs === undefined || this.#committed) return;
    attempt.after(timeoutMs, () => {
      if (!this.#isLive(attempt) || this.#committed) return;
      attempt.up?.cancel();
      this.onAttemptError(
        attempt,
        new ProxyError(
          'upstream_timeout',
          `upstream ${attempt.endpoint.address} did not reply within per_try_timeout ${timeoutMs}ms`,
        ),
      );
    });
  }

  #isLive(attempt: UpstreamAttempt): boolean {
    return this.#live.includes(attempt);
  }

  // ── other attempts: transparent retries, retries, hedges ───────────────

  /** Whether the call can still go to another attempt at all. */
  #replayable(): boolean {
    return !this.#committed && this.#error === undefined && !this.#finished && this.#replay.intact;
  }

  /**
   * gRFC A6 transparent retry: a call the backend never saw is replayed,
   * without counting as an attempt. A connect failure tries other endpoints
   * (the failed one is held out by its pool's back-off), a refused stream is
   * retried once. Never after the call committed, never when the request
   * outgrew the replay buffer, never past the deadline.
   */
  #retryTransparently(attempt: UpstreamAttempt, error: ProxyError): boolean {
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
    // The replacement inherits a hedged attempt's budget slot.
    const slot = attempt.budgetSlot;
    attempt.budgetSlot = false;
    this.#giveUp(attempt, { kind: 'error', error }, 'transparent');
    this.#startAttempt(cluster, endpoint, 'transparent', slot);
    return true;
  }

  /** A non-OK reply before commit: another attempt when the policy and pushback allow. */
  #recoverFromReply(
    attempt: UpstreamAttempt,
    grpcStatus: number,
    headers: IncomingHttpHeaders,
    trailers: IncomingHttpHeaders | undefined,
  ): boolean {
    if (grpcStatus === GrpcStatus.OK) return false;
    const pushback = parsePushback((trailers ?? headers)['grpc-retry-pushback-ms']);
    return this.#recover(attempt, { kind: 'reply', grpcStatus, headers, trailers }, pushback);
  }

  /** Gives up a failed attempt for another one when the route's policy allows. */
  #recover(attempt: UpstreamAttempt, failure: AttemptFailure, pushback: Pushback): boolean {
    if (!this.#replayable() || failure.kind === 'cancelled') return false;
    if (this.#hedge !== undefined) return this.#recoverHedged(attempt, failure, pushback);
    const retries = this.#retries;
    if (retries === undefined) return false;
    const retryable =
      failure.kind === 'reply'
        ? retries.policy.retriesStatus(failure.grpcStatus)
        : retries.policy.retriesError(failure.error);
    if (!retryable) return false;
    const decision = retries.next(pushback, performance.now(), this.#deadline);
    if (typeof decision !== 'number') return false;
    this.#giveUp(attempt, failure, 'retry');
    this.#nextAttemptTimer = setTimeout(() => {
      this.#nextAttemptTimer = undefined;
      this.#startRetry();
    }, decision);
    return true;
  }

  /**
   * A hedged attempt failed. A non-fatal failure ends only that attempt: the
   * others go on, and when none is left the next hedge goes at once (after
   * the backend's pushback, if it gave one). Anything else is the call's
   * reply, as with one attempt.
   */
  #recoverHedged(
    attempt: UpstreamAttempt,
    failure: Exclude<AttemptFailure, { kind: 'cancelled' }>,
    pushback: Pushback,
  ): boolean {
    const hedge = this.#hedge;
    if (hedge === undefined || pushback.kind === 'stop') return false;
    const nonFatal =
      failure.kind === 'reply'
        ? hedge.nonFatalStatus(failure.grpcStatus)
        : hedge.nonFatalError(failure.error);
    if (!nonFatal) return false;
    const others = this.#live.some((other) => other !== attempt);
    const moreAllowed = this.#hedgeAttempts < hedge.maxAttempts && !this.#pastDeadline();
    if (!others && !moreAllowed) return false;
    this.#giveUp(attempt, failure, 'hedge');
    if (!others || pushback.kind === 'delay') {
      this.#armNextHedge(pushback.kind === 'delay' ? pushback.ms : 0);
    }
    return true;
  }

  #pastDeadline(): boolean {
    return this.#deadline !== undefined && performance.now() >= this.#deadline;
  }

  #startRetry(): void {
    const cluster = this.#cluster;
    if (cluster === undefined || this.#error !== undefined || this.#finished) return;
    const endpoint = this.#pickUntried(cluster);
    if (endpoint === undefined) this.#forwardLastFailure();
    else this.#startAttempt(cluster, endpoint, 'retry');
  }

  /** The next hedge after `hedge.delay`, while attempts are left. */
  #scheduleHedge(): void {
    const hedge = this.#hedge;
    if (hedge === undefined || this.#committed || this.#hedgeAttempts >= hedge.maxAttempts) return;
    this.#armNextHedge(hedge.delayMs);
  }

  #armNextHedge(delayMs: number): void {
    clearTimeout(this.#nextAttemptTimer);
    this.#nextAttemptTimer = setTimeout(() => {
      this.#nextAttemptTimer = undefined;
      this.#sendHedge();
    }, delayMs);
  }

  /**
   * Sends the call to one more endpoint, if attempts are left, the deadline
   * has not passed and the cluster's retry budget admits it (a hedged
   * attempt holds a budget slot until it ends). With no attempt left to
   * answer and none sent, the last failure is the client's reply.
   */
  #sendHedge(): void {
    const cluster = this.#cluster;
    const hedge = this.#hedge;
    if (cluster === undefined || hedge === undefined || !this.#replayable()) return;
    const endpoint =
      this.#hedgeAttempts < hedge.maxAttempts && !this.#pastDeadline()
        ? this.#pickUntried(cluster)
        : undefined;
    const admitted =
      endpoint !== undefined &&
      cluster.limits.retries.tryAcquire(cluster.limits.requests.inFlight) === undefined;
    if (endpoint === undefined || !admitted) {
      if (this.#live.length === 0) this.#forwardLastFailure();
      return;
    }
    this.#startAttempt(cluster, endpoint, 'hedge', true);
    this.#scheduleHedge();
  }

  /** An endpoint no attempt of this call has run on, when the balancer offers one. */
  #pickUntried(cluster: Cluster): Endpoint | undefined {
    const tried = new Set<Endpoint>([
      ...this.#earlierAttempts.map((a) => a.endpointRef),
      ...this.#live.map((a) => a.endpoint),
    ]);
    let endpoint: Endpoint | undefined;
    for (let pick = 0; pick < UNTRIED_PICKS; pick++) {
      endpoint = cluster.balancer.pick({ headers: this.#down.head.headers });
      if (endpoint === undefined || !tried.has(endpoint)) break;
    }
    return endpoint;
  }

  /** Ends an attempt (cancelled if still open), frees what it held and records how it ended. */
  #giveUp(attempt: UpstreamAttempt, failure: AttemptFailure, then: AttemptRecord['then']): void {
    attempt.cancel();
    this.#live = this.#live.filter((a) => a !== attempt);
    attempt.endpoint.attemptAbandoned();
    this.#releaseBudgetSlot(attempt);
    this.#earlierAttempts.push(attemptRecord(attempt, failure, then));
    this.#lastFailure = { attempt, failure };
    // The client may have been paused for this attempt's sake.
    if (attempt.congested && !this.#live.some((a) => a.congested)) this.#down.resumeRequest();
  }

  #releaseBudgetSlot(attempt: UpstreamAttempt): void {
    if (!attempt.budgetSlot) return;
    attempt.budgetSlot = false;
    this.#cluster?.limits.retries.release();
  }

  /** No other attempt can answer after all: the client gets the last failure, as it came. */
  #forwardLastFailure(): void {
    const last = this.#lastFailure;
    // Its record becomes the call's own outcome again.
    this.#earlierAttempts.pop();
    this.#committed = true;
    this.#retries?.release();
    if (last !== undefined) this.#endpoint = last.attempt.endpoint;
    const failure = last?.failure;
    if (failure?.kind !== 'reply') {
      const error = failure?.kind === 'error' ? failure.error : undefined;
      this.#fail(error ?? new ProxyError('internal', 'no attempt left and no failure to forward'));
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
   * No other attempt any more: the others are cancelled, held response
   * headers go out, the replay buffer and retry slots are freed, per-try
   * timeouts stop.
   */
  #commitTo(attempt: UpstreamAttempt): void {
    if (this.#committed) return;
    this.#committed = true;
    this.#winner = attempt;
    this.#endpoint = attempt.endpoint;
    clearTimeout(this.#nextAttemptTimer);
    this.#nextAttemptTimer = undefined;
    attempt.stopTimers();
    for (const other of this.#live) {
      if (other !== attempt) this.#giveUp(other, { kind: 'cancelled' }, 'hedge_lost');
    }
    this.#retries?.release();
    this.#releaseBudgetSlot(attempt);
    this.#replay.drop();
    const held = attempt.heldHeaders;
    attempt.heldHeaders = undefined;
    if (held !== undefined && this.#error === undefined && !this.#finished) {
      this.#httpStatus = 200;
      this.#down.respond(downstreamHeaders(held));
    }
  }

  /**
   * Response headers that do not end the stream: a retried call holds them
   * for at most `hold` while a retry may still follow; otherwise the first
   * attempt to send them wins and they go out.
   */
  #onResponseHeaders(attempt: UpstreamAttempt, headers: IncomingHttpHeaders): void {
    const retries = this.#retries;
    if (
      retries !== undefined &&
      this.#replayable() &&
      retries.possible(performance.now(), this.#deadline)
    ) {
      attempt.heldHeaders = headers;
      attempt.after(retries.policy.holdMs, () => {
        if (this.#isLive(attempt)) this.#commitTo(attempt);
      });
      return;
    }
    this.#commitTo(attempt);
    this.#httpStatus = 200;
    this.#down.respond(downstreamHeaders(headers));
  }

  /** The request outgrew the replay buffer: no other attempt can replay it now. */
  #replayLost(): void {
    if (this.#committed) return;
    const oldest = this.#live[0];
    if (oldest !== undefined) {
      this.#commitTo(oldest);
      return;
    }
    // Waiting out a back-off with nothing to replay: the last failure stands.
    clearTimeout(this.#nextAttemptTimer);
    this.#nextAttemptTimer = undefined;
    this.#forwardLastFailure();
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
    let congested = false;
    for (const attempt of this.#live) {
      if (attempt.up !== undefined && !attempt.up.write(chunk)) {
        attempt.congested = true;
        congested = true;
      }
    }
    if (congested) this.#down.pauseRequest();
  }

  onRequestEnd(): void {
    this.#replay.end();
    for (const attempt of this.#live) attempt.up?.end();
  }

  onResponseDrain(): void {
    this.#winner?.up?.resumeResponse();
  }

  onDownstreamClose(complete: boolean): void {
    if (!complete && this.#error === undefined) {
      for (const attempt of this.#live) attempt.cancel();
      this.#source = 'cancelled';
      this.#error = new ProxyError('downstream_cancelled', 'client cancelled the call');
    }
    this.#finish();
  }

  // ── backend side events ────────────────────────────────────────────────

  onAttemptResponse(attempt: UpstreamAttempt, headers: IncomingHttpHeaders, end: boolean): void {
    if (!this.#isLive(attempt)) return;
    // node:http2 gives :status as a number although the type says string.
    const status = Number(headers[':status']);
    const address = attempt.endpoint.address;
    if (this.#down.head.isGrpc && (status !== 200 || !isGrpcContentType(headers['content-type']))) {
      attempt.up?.cancel();
      this.onAttemptError(attempt, nonGrpcReply(status, headers['content-type'], address));
      return;
    }
    if (!end) {
      this.#onResponseHeaders(attempt, headers);
      return;
    }
    const grpcStatus = grpcStatusOf(headers);
    if (grpcStatus === undefined && this.#down.head.isGrpc) {
      this.onAttemptError(attempt, missingStatus(address));
      return;
    }
    if (grpcStatus !== undefined && this.#recoverFromReply(attempt, grpcStatus, headers, undefined))
      return;
    this.#commitTo(attempt);
    this.#httpStatus = status;
    this.#grpcStatus = grpcStatus;
    this.#down.respondAndEnd(downstreamHeaders(headers));
  }

  onAttemptData(attempt: UpstreamAttempt, chunk: Buffer): void {
    if (!this.#isLive(attempt)) return;
    this.#bytesOut += chunk.length;
    if (
      this.#responseGuard !== undefined &&
      this.#tooLarge(this.#responseGuard, chunk, 'response')
    ) {
      return;
    }
    // The first response message commits the call (and sends held headers).
    this.#commitTo(attempt);
    if (!this.#down.write(chunk)) attempt.up?.pauseResponse();
  }

  onAttemptEnd(attempt: UpstreamAttempt): void {
    if (!this.#isLive(attempt) || this.#error !== undefined) return;
    const held = attempt.heldHeaders;
    const trailers = attempt.trailers;
    if (held !== undefined) {
      // Headers held and no message: the trailers decide between a retry and forwarding both.
      const status = trailers === undefined ? undefined : grpcStatusOf(trailers);
      if (status !== undefined && this.#recoverFromReply(attempt, status, held, trailers)) return;
      this.#commitTo(attempt);
    }
    if (!this.#down.responded) {
      // The stream ended (e.g. RST_STREAM(NO_ERROR)) before any response headers.
      this.onAttemptError(
        attempt,
        new ProxyError(
          'upstream_reset',
          `upstream ${attempt.endpoint.address} closed the stream without a response`,
        ),
      );
      return;
    }
    if (this.#grpcStatus !== undefined) return; // trailers-only: already sent whole
    if (this.#down.head.isGrpc) {
      this.#grpcStatus = trailers === undefined ? undefined : grpcStatusOf(trailers);
      if (this.#grpcStatus === undefined) {
        this.#fail(missingStatus(attempt.endpoint.address));
        return;
      }
    }
    this.#down.end(trailers === undefined ? undefined : downstreamHeaders(trailers));
  }

  onAttemptDrain(attempt: UpstreamAttempt): void {
    if (!this.#isLive(attempt)) return;
    attempt.congested = false;
    if (!this.#live.some((a) => a.congested)) this.#down.resumeRequest();
  }

  onAttemptError(attempt: UpstreamAttempt, error: ProxyError): void {
    if (!this.#isLive(attempt)) return;
    if (this.#retryTransparently(attempt, error)) return;
    if (this.#recover(attempt, { kind: 'error', error }, NO_PUSHBACK)) return;
    this.#fail(error);
  }

  // ── endings ────────────────────────────────────────────────────────────

  /** Ends the call with RESOURCE_EXHAUSTED if `chunk` carries an oversized message. */
  #tooLarge(guard: MessageSizeGuard, chunk: Buffer, direction: string): boolean {
    if (this.#error !== undefined) return true;
    const length = guard.check(chunk);
    if (length === undefined) return false;
    this.#fail(
      new ProxyError(
        'message_too_large',
        `${direction} message of ${length} bytes exceeds max_message_size ${guard.limit}`,
      ),
    );
    return true;
  }

  /** Ends the call from outside (shutdown): the backend streams are cancelled, the client gets `error`. */
  abort(error: ProxyError): void {
    this.#fail(error);
  }

  /** Ends the call with a local reply for this error (once); every attempt is cancelled. */
  #fail(error: ProxyError): void {
    if (this.#error !== undefined || this.#finished) return;
    this.#error = error;
    this.#source = 'local';
    this.#stopAttempts();
    this.#grpcStatus = this.#down.head.isGrpc ? error.grpcStatus : undefined;
    if (!this.#down.responded) this.#httpStatus = this.#down.head.isGrpc ? 200 : error.httpStatus;
    try {
      sendLocalReply(this.#down, error);
    } catch {
      this.#down.reset(2 /* INTERNAL_ERROR */);
    }
  }

  /** No more attempts: every live one cancelled (kept for `#finish`), timers stopped, slots freed. */
  #stopAttempts(): void {
    clearTimeout(this.#nextAttemptTimer);
    this.#nextAttemptTimer = undefined;
    for (const attempt of this.#live) {
      attempt.cancel();
      attempt.heldHeaders = undefined;
      this.#releaseBudgetSlot(attempt);
    }
    this.#retries?.release();
  }

  #finish(): void {
    if (this.#finished) return;
    this.#finished = true;
    clearTimeout(this.#deadlineTimer);
    this.#stopAttempts();
    for (const attempt of this.#live) attempt.endpoint.callEnded();
    this.#live = [];
    if (this.#admitted) this.#cluster?.limits.requests.release();
    const head = this.#down.head;
    const error = this.#error;
    this.#env.sink.record({
      requestId: this.#requestId,
      listener: head.listener,
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
      attempts: this.#attemptsMade,
      retries: this.#retries?.retries ?? 0,
      earlierAttempts: this.#earlierAttempts,
    });
  }
}
