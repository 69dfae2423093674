/**
 * The forward stage of one call: its upstream attempts. It opens the first,
 * fans the request out to every live attempt (keeping a bounded copy for
 * later ones), and, until the call is *committed* to one attempt, replaces a
 * failed one: transparently when the backend never saw it (gRFC A6, here),
 * or as the route's strategy decides (`RetryStrategy`: after a back-off;
 * `HedgeStrategy`: staggered attempts at once, the first to answer wins).
 * A retried call holds response headers while a retry is still possible
 * (docs/retries.md).
 *
 * What reaches the client goes through `ClientSide` (the ProxyCall).
 */
import type { IncomingHttpHeaders } from 'node:http2';
import { ProxyError, toProxyError } from '../errors/proxy-error.js';
import { isGrpcContentType } from '../grpc/http-status-mapping.js';
import { parsePushback, type Pushback } from '../grpc/retry-pushback.js';
import { GrpcStatus } from '../grpc/status.js';
import type { AttemptRecord } from '../outcome/attempt-record.js';
import { CallRetries } from '../retry/call-retries.js';
import type { Route } from '../router/route-table.js';
import type { Cluster } from '../upstream/cluster.js';
import type { Endpoint } from '../upstream/endpoint.js';
import type { UpstreamCall } from '../upstream/upstream-call.js';
import {
  attemptRecord,
  grpcStatusOf,
  missingStatus,
  nonGrpcReply,
  type AttemptFailure,
} from './attempt-failure.js';
import {
  NO_REPLACEMENT,
  type ActionableFailure,
  type AttemptControl,
  type AttemptStrategy,
} from './attempt-strategy.js';
import type { ClientSide, ForwardOptions } from './client-side.js';
import { HedgeStrategy } from './hedge-strategy.js';
import { AfterRead } from './after-read.js';
import { openUpstream } from './open-upstream.js';
import { RetryStrategy } from './retry-strategy.js';
import { ReplayBuffer } from './replay-buffer.js';
import { UpstreamAttempt, type AttemptKind, type AttemptOwner } from './upstream-attempt.js';

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
const NO_ATTEMPTS: readonly UpstreamAttempt[] = Object.freeze([]);

/** Attempts whose response headers are held, until the read that brought them is handled. */
const HELD_AFTER_READ = new AfterRead<UpstreamAttempt>((attempt) => attempt.holdOutlivedRead());

export class Forwarder implements AttemptOwner {
  readonly #client: ClientSide;
  readonly #options: ForwardOptions;
  readonly #cluster: Cluster;
  /** How the route replaces a failed attempt: retry, hedge, or not at all. */
  readonly #strategy: AttemptStrategy;
  readonly #replay: ReplayBuffer;
  /**
   * Attempts open now, oldest first: one, or several while hedging. Never
   * changed in place, so iterating it while attempts come and go is safe.
   */
  #live: readonly UpstreamAttempt[] = NO_ATTEMPTS;
  /** The attempt the call committed to; its reply is the client's. */
  #winner: UpstreamAttempt | undefined;
  #endpoint: Endpoint | undefined;
  #attemptsMade = 0;
  readonly #earlierAttempts: AttemptRecord[] = [];
  #connectFailures = 0;
  #refusedRetried = false;
  #committed = false;
  /** A trailers-only reply went to the client: the attempt's end adds nothing. */
  #endedWhole = false;
  #stopped = false;
  /** A retry's back-off or the next hedge's delay. */
  #nextAttemptTimer: NodeJS.Timeout | undefined;
  /** The attempt given up last and how, forwarded as it came if no other can answer. */
  #lastFailure: { readonly attempt: UpstreamAttempt; readonly failure: AttemptFailure } | undefined;

  constructor(client: ClientSide, options: ForwardOptions) {
    this.#client = client;
    this.#options = options;
    const { cluster, route } = options;
    this.#cluster = cluster;
    this.#strategy = this.#strategyFor(route, cluster);
    this.#replay = new ReplayBuffer(
      route.retry?.bufferLimit ?? route.hedge?.bufferLimit ?? TRANSPARENT_RETRY_BUFFER,
    );
  }

  #strategyFor(route: Route, cluster: Cluster): AttemptStrategy {
    if (route.retry === undefined && route.hedge === undefined) return NO_REPLACEMENT;
    const control = this.#control();
    if (route.retry !== undefined) {
      return new RetryStrategy(new CallRetries(route.retry, cluster.limits), control);
    }
    if (route.hedge !== undefined) return new HedgeStrategy(route.hedge, control);
    return NO_REPLACEMENT;
  }

  /**
   * The strategies' handle on this call's attempts: one object per call
   * (a class nested here, so it reaches the forwarder's private members)
   * rather than an object literal of seven closures.
   */
  #control(): AttemptControl {
    return new Forwarder.#Control(this);
  }

  static readonly #Control = class implements AttemptControl {
    readonly #f: Forwarder;

    constructor(forwarder: Forwarder) {
      this.#f = forwarder;
    }

    live(): readonly UpstreamAttempt[] {
      return this.#f.#live;
    }

    deadline(): number | undefined {
      return this.#f.#client.deadline;
    }

    replayable(): boolean {
      return this.#f.#replayable();
    }

    startAnother(kind: 'retry' | 'hedge', budgetSlot: boolean): boolean {
      return this.#f.#startAnother(kind, budgetSlot);
    }

    giveUp(attempt: UpstreamAttempt, failure: AttemptFailure, then: AttemptRecord['then']): void {
      this.#f.#giveUp(attempt, failure, then);
    }

    forwardLastFailure(): void {
      this.#f.#forwardLastFailure();
    }

    after(delayMs: number, next: () => void): void {
      const f = this.#f;
      clearTimeout(f.#nextAttemptTimer);
      f.#nextAttemptTimer = setTimeout(() => {
        f.#nextAttemptTimer = undefined;
        if (!f.#stopped && !f.#client.over) next();
      }, delayMs);
    }
  };

  /** The endpoint of the attempt the call's outcome describes (winner, else the latest). */
  get endpoint(): Endpoint | undefined {
    return this.#endpoint;
  }

  get attemptsMade(): number {
    return this.#attemptsMade;
  }

  get retries(): number {
    return this.#strategy.retries;
  }

  get earlierAttempts(): readonly AttemptRecord[] {
    return this.#earlierAttempts;
  }

  /** Opens the first attempt (and arms the first hedge). */
  start(endpoint: Endpoint): void {
    this.#startAttempt(endpoint, 'first');
    this.#strategy.started();
  }

  // ── the request, fanned out ────────────────────────────────────────────

  /** A request body chunk for every live attempt (and the replay copy, until commit). */
  requestData(chunk: Buffer): void {
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
    if (congested) this.#client.pauseRequest();
  }

  requestEnd(): void {
    this.#replay.end();
    for (const attempt of this.#live) attempt.up?.end();
  }

  /** The client can take more of the response. */
  resumeResponse(): void {
    this.#winner?.up?.resumeResponse();
  }

  /** No more attempts: every live one cancelled, timers stopped, retry slots freed. */
  stop(): void {
    this.#stopped = true;
    clearTimeout(this.#nextAttemptTimer);
    this.#nextAttemptTimer = undefined;
    for (const attempt of this.#live) {
      attempt.cancel();
      attempt.heldHeaders = undefined;
      this.#releaseBudgetSlot(attempt);
    }
    this.#strategy.release();
  }

  /** The call ended: stops everything and ends the live attempts' in-flight counts. */
  finish(): void {
    this.stop();
    for (const attempt of this.#live) attempt.endpoint.callEnded();
    this.#live = NO_ATTEMPTS;
  }

  // ── attempts ───────────────────────────────────────────────────────────

  /**
   * Opens an attempt on `endpoint` and replays what the client sent so far.
   * A failure to even open it (endpoint in reconnect back-off, session
   * gone, a cluster limit) goes the same way as a failure reported later.
   */
  #startAttempt(endpoint: Endpoint, kind: AttemptKind, budgetSlot = false): void {
    // Each attempt counts on its endpoint's in-flight calls exactly once.
    endpoint.callStarted();
    const attempt = new UpstreamAttempt(this, endpoint, kind);
    attempt.budgetSlot = budgetSlot;
    this.#live = this.#live.length === 0 ? [attempt] : [...this.#live, attempt];
    this.#attemptsMade++;
    this.#endpoint = endpoint;
    try {
      attempt.up = this.#openUpstream(endpoint, attempt);
    } catch (error) {
      this.onAttemptError(attempt, toProxyError(error));
      return;
    }
    this.#armPerTryTimeout(attempt);
    this.#replayTo(attempt);
  }

  #openUpstream(endpoint: Endpoint, attempt: UpstreamAttempt): UpstreamCall {
    return openUpstream(endpoint, attempt, {
      cluster: this.#cluster,
      head: this.#client.head,
      requestId: this.#options.requestId,
      appendForwardedFor: this.#options.appendForwardedFor,
      deadline: this.#client.deadline,
      previousAttempts: this.#strategy.previousAttempts(),
      now: attempt.startedAt,
    });
  }

  /** Sends a new attempt what the client has sent so far. */
  #replayTo(attempt: UpstreamAttempt): void {
    const up = attempt.up;
    const chunks = this.#replay.chunks;
    if (up === undefined || chunks === undefined || this.#client.head.endStream) return;
    for (const chunk of chunks) if (!up.write(chunk)) attempt.congested = true;
    if (this.#replay.ended) up.end();
  }

  /** Until the call commits, an attempt gets `per_try_timeout` to answer; then it is retried. */
  #armPerTryTimeout(attempt: UpstreamAttempt): void {
    const timeoutMs = this.#strategy.perTryTimeoutMs;
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

  // ── replacing a failed attempt ─────────────────────────────────────────

  /** Whether the call can still go to another attempt at all. */
  #replayable(): boolean {
    return !this.#committed && !this.#stopped && !this.#client.over && this.#replay.intact;
  }

  /**
   * gRFC A6 transparent retry: a call the backend never saw is replayed,
   * without counting as an attempt. A connect failure tries other endpoints
   * (the failed one is held out by its pool's back-off), a refused stream is
   * retried once. Never after the call committed, never when the request
   * outgrew the replay buffer, never past the deadline.
   */
  #retryTransparently(attempt: UpstreamAttempt, error: ProxyError): boolean {
    if (!this.#replayable()) return false;
    if (error.code === 'upstream_connect_failed') {
      if (++this.#connectFailures >= MAX_CONNECT_ATTEMPTS) return false;
    } else if (error.code === 'upstream_refused_stream') {
      if (this.#refusedRetried) return false;
      this.#refusedRetried = true;
    } else {
      return false;
    }
    const endpoint = this.#cluster.balancer.pick(this.#client.head);
    if (endpoint === undefined) return false;
    // The replacement inherits a hedged attempt's budget slot.
    const slot = attempt.budgetSlot;
    attempt.budgetSlot = false;
    this.#giveUp(attempt, { kind: 'error', error }, 'transparent');
    this.#startAttempt(endpoint, 'transparent', slot);
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

  /** Gives up a failed attempt for another one when the route's strategy allows. */
  #recover(attempt: UpstreamAttempt, failure: ActionableFailure, pushback: Pushback): boolean {
    return this.#replayable() && this.#strategy.recover(attempt, failure, pushback);
  }

  /**
   * Opens another attempt on an endpoint the call has not tried; with
   * `budgetSlot`, only if the cluster's retry budget admits it.
   */
  #startAnother(kind: 'retry' | 'hedge', budgetSlot: boolean): boolean {
    if (!this.#replayable()) return false;
    const endpoint = this.#pickUntried();
    if (endpoint === undefined) return false;
    if (budgetSlot) {
      const limits = this.#cluster.limits;
      if (limits.retries.tryAcquire(limits.requests.inFlight) !== undefined) return false;
    }
    this.#startAttempt(endpoint, kind, budgetSlot);
    return true;
  }

  /** An endpoint no attempt of this call has run on, when the balancer offers one. */
  #pickUntried(): Endpoint | undefined {
    const tried = new Set<Endpoint>([
      ...this.#earlierAttempts.map((a) => a.endpointRef),
      ...this.#live.map((a) => a.endpoint),
    ]);
    let endpoint: Endpoint | undefined;
    for (let pick = 0; pick < UNTRIED_PICKS; pick++) {
      endpoint = this.#cluster.balancer.pick(this.#client.head);
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
    if (attempt.congested && !this.#live.some((a) => a.congested)) this.#client.resumeRequest();
  }

  #releaseBudgetSlot(attempt: UpstreamAttempt): void {
    if (!attempt.budgetSlot) return;
    attempt.budgetSlot = false;
    this.#cluster.limits.retries.release();
  }

  /** No other attempt can answer after all: the client gets the last failure, as it came. */
  #forwardLastFailure(): void {
    const last = this.#lastFailure;
    // Its record becomes the call's own outcome again.
    this.#earlierAttempts.pop();
    this.#committed = true;
    this.#strategy.release();
    if (last !== undefined) this.#endpoint = last.attempt.endpoint;
    const failure = last?.failure;
    if (failure?.kind !== 'reply') {
      const error = failure?.kind === 'error' ? failure.error : undefined;
      this.#client.fail(
        error ?? new ProxyError('internal', 'no attempt left and no failure to forward'),
      );
      return;
    }
    this.#endedWhole = failure.trailers === undefined;
    if (failure.trailers === undefined) {
      this.#client.respondAndEnd(failure.headers, failure.grpcStatus);
      return;
    }
    this.#client.respond(failure.headers);
    this.#client.end(failure.trailers, last?.attempt.endpoint.address ?? '');
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
    this.#strategy.release();
    this.#releaseBudgetSlot(attempt);
    this.#replay.drop();
    const held = attempt.heldHeaders;
    attempt.heldHeaders = undefined;
    if (held !== undefined && !this.#client.over) this.#client.respond(held);
  }

  /**
   * Response headers that do not end the stream: a retried call holds them
   * for at most `hold` while a retry may still follow; otherwise the first
   * attempt to send them wins and they go out.
   */
  #onResponseHeaders(attempt: UpstreamAttempt, headers: IncomingHttpHeaders): void {
    if (!this.#committed) {
      const now = performance.now();
      const holdMs = this.#strategy.holdMs(now);
      if (holdMs !== undefined) {
        attempt.heldHeaders = headers;
        this.#armHold(attempt, holdMs, now);
        return;
      }
    }
    this.#commitTo(attempt);
    this.#client.respond(headers);
  }

  /**
   * Commits to `attempt` once its headers have been held `holdMs`. The timer
   * is armed after the current socket read: a unary reply's first message
   * (or its trailers) almost always comes in the same read as its headers and
   * settles the hold before then, so most calls never arm one: no
   * setTimeout/clearTimeout pair and no Timeout object per call.
   */
  #armHold(attempt: UpstreamAttempt, holdMs: number, now: number): void {
    attempt.heldAt = now;
    attempt.holdMs = holdMs;
    HELD_AFTER_READ.add(attempt);
  }

  /** The hold outlived the read: a timer commits to the attempt when it runs out. */
  onHoldAfterRead(attempt: UpstreamAttempt): void {
    // Settled meanwhile: committed (headers released) or given up.
    if (attempt.heldHeaders === undefined || !this.#isLive(attempt)) return;
    const left = attempt.holdMs - (performance.now() - attempt.heldAt);
    attempt.after(Math.max(0, left), () => {
      if (this.#isLive(attempt)) this.#commitTo(attempt);
    });
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

  // ── attempt events ─────────────────────────────────────────────────────

  onAttemptResponse(attempt: UpstreamAttempt, headers: IncomingHttpHeaders, end: boolean): void {
    if (!this.#isLive(attempt)) return;
    // node:http2 gives :status as a number although the type says string.
    const status = Number(headers[':status']);
    const address = attempt.endpoint.address;
    const grpc = this.#client.head.isGrpc;
    if (grpc && (status !== 200 || !isGrpcContentType(headers['content-type']))) {
      attempt.up?.cancel();
      this.onAttemptError(attempt, nonGrpcReply(status, headers['content-type'], address));
      return;
    }
    if (!end) {
      this.#onResponseHeaders(attempt, headers);
      return;
    }
    const grpcStatus = grpcStatusOf(headers);
    if (grpcStatus === undefined && grpc) {
      this.onAttemptError(attempt, missingStatus(address));
      return;
    }
    if (grpcStatus !== undefined && this.#recoverFromReply(attempt, grpcStatus, headers, undefined))
      return;
    this.#commitTo(attempt);
    this.#endedWhole = true;
    this.#client.respondAndEnd(headers, grpcStatus);
  }

  onAttemptData(attempt: UpstreamAttempt, chunk: Buffer): void {
    if (!this.#isLive(attempt)) return;
    // The first response message commits the call (and sends held headers).
    this.#commitTo(attempt);
    if (!this.#client.write(chunk)) attempt.up?.pauseResponse();
  }

  onAttemptEnd(attempt: UpstreamAttempt): void {
    if (!this.#isLive(attempt) || this.#client.over || this.#endedWhole) return;
    const held = attempt.heldHeaders;
    const trailers = attempt.trailers;
    if (held !== undefined) {
      // Headers held and no message: the trailers decide between a retry and forwarding both.
      const status = trailers === undefined ? undefined : grpcStatusOf(trailers);
      if (status !== undefined && this.#recoverFromReply(attempt, status, held, trailers)) return;
      this.#commitTo(attempt);
    }
    if (!this.#client.responded) {
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
    this.#client.end(trailers, attempt.endpoint.address);
  }

  onAttemptDrain(attempt: UpstreamAttempt): void {
    if (!this.#isLive(attempt)) return;
    attempt.congested = false;
    if (!this.#live.some((a) => a.congested)) this.#client.resumeRequest();
  }

  onAttemptError(attempt: UpstreamAttempt, error: ProxyError): void {
    if (!this.#isLive(attempt)) return;
    if (this.#retryTransparently(attempt, error)) return;
    if (this.#recover(attempt, { kind: 'error', error }, NO_PUSHBACK)) return;
    this.#client.fail(error);
  }
}
