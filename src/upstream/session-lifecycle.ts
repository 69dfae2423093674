/**
 * What every pooled backend connection does whatever engine carries it: the
 * connect timeout (until the backend's SETTINGS), the stream count, the lazy
 * idle timer, keepalive PINGs (gRFC A8), the reset budget, GOAWAY's
 * last-stream-id, and reporting a connection that failed before it was
 * ready. `UpstreamSession` (node:http2) and `NativeUpstreamSession` (src/h2)
 * extend it: they open the connection, feed it the connection's events
 * (`settingsReceived`, `goawayReceived`, `sessionError`, `sessionClosed`)
 * and give it only PING, close and destroy.
 */
import { ENHANCE_YOUR_CALM } from '../h2/constants.js';
import type { Logger } from '../log/logger.js';
import type {
  KeepaliveOptions,
  PooledSession,
  SessionEvents,
  SessionPlan,
} from './pooled-session.js';
import type { UpstreamCall, UpstreamHandler, UpstreamRequestHead } from './upstream-call.js';
import {
  closedAfterHandshake,
  describeTlsFailure,
  type UpstreamTlsOptions,
} from './upstream-tls.js';

export interface UpstreamSessionOptions {
  /** MIN_CONNECT_TIMEOUT: no connection attempt gets less time (connection-backoff.md). */
  readonly connectTimeoutMs: number;
  /** Per-stream receive window we advertise to the backend. */
  readonly initialWindowSize: number;
  /** Connection-level receive window. */
  readonly connectionWindowSize: number;
  readonly logger: Logger;
  /** A session that carried no stream for this long is closed gracefully. Default 1 h. */
  readonly idleTimeoutMs?: number;
  /** PINGs while streams are open; off when undefined. */
  readonly keepalive?: KeepaliveOptions | undefined;
  /** RST_STREAMs the proxy may send on one session before retiring it. Default 500. */
  readonly resetBudget?: number;
  /** Connect over TLS (the cluster's `tls:`); cleartext h2c when undefined. */
  readonly tls?: UpstreamTlsOptions | undefined;
}

export const DEFAULT_IDLE_TIMEOUT_MS = 60 * 60 * 1000;
export const DEFAULT_RESET_BUDGET = 500;
/** RFC 9113 §6.5.2: a peer should allow at least 100; assumed when nothing better is known. */
export const DEFAULT_PROVISIONAL_STREAM_LIMIT = 100;
/** SETTINGS_MAX_CONCURRENT_STREAMS absent means unlimited; node reports 2^32 - 1. */
export const MAX_SETTING = 2 ** 32 - 1;

/** A session opened outside a pool: the minimum connect timeout, conservative limits. */
export function standalonePlan(options: UpstreamSessionOptions): SessionPlan {
  return {
    connectTimeoutMs: options.connectTimeoutMs,
    startedAt: performance.now(),
    provisionalStreamLimit: DEFAULT_PROVISIONAL_STREAM_LIMIT,
    peerMaxConcurrentStreams: 1,
    keepalive: () => options.keepalive,
  };
}

export abstract class SessionLifecycle implements PooledSession {
  readonly authority: string;
  readonly startedAt: number;
  protected readonly options: UpstreamSessionOptions;
  protected readonly plan: SessionPlan;
  protected readonly logger: Logger;
  readonly #events: SessionEvents;
  #connected = false;
  #ready = false;
  #failure: Error | undefined;
  #goawayLastStreamId: number | undefined;
  #goawayCode: number | undefined;
  #retired: string | undefined;
  #remoteStreamLimit: number | undefined;
  #active = 0;
  /** performance.now() when the last stream closed (or the session became ready). */
  #idleSince = performance.now();
  #opened = 0;
  #resetsSent = 0;
  #connectFailureReported = false;
  #unusableReported = false;
  #connectTimer: NodeJS.Timeout | undefined;
  #idleTimer: NodeJS.Timeout | undefined;
  #keepaliveTimer: NodeJS.Timeout | undefined;
  #pingTimer: NodeJS.Timeout | undefined;
  /** Called once when the backend's SETTINGS arrive (calls waiting for the connection). */
  #readyWaiters = new Set<() => void>();

  /** Arms the connect timeout; the subclass opens the connection. */
  constructor(
    authority: string,
    options: UpstreamSessionOptions,
    plan: SessionPlan,
    events: SessionEvents,
  ) {
    this.authority = authority;
    this.startedAt = plan.startedAt;
    this.options = options;
    this.plan = plan;
    this.#events = events;
    this.logger = options.logger;
    this.#connectTimer = setTimeout(() => {
      this.destroy(new Error(`connect timeout after ${Math.round(plan.connectTimeoutMs)}ms`));
    }, plan.connectTimeoutMs);
    this.#connectTimer.unref();
  }

  // ── what the engine gives ──────────────────────────────────────────────

  abstract openCall(
    headers: UpstreamRequestHead,
    endStream: boolean,
    handler: UpstreamHandler,
    onConnected?: () => void,
  ): UpstreamCall;
  /** Gracefully closes: in-flight streams finish, no new ones. */
  abstract close(): void;
  /** Ends the session at once; its streams fail with `error` as the reason (`noteFailure` first). */
  abstract destroy(error: Error): void;
  abstract get gone(): boolean;
  abstract whenGone(): Promise<void>;
  /** The connection itself takes no new streams (closing, closed, destroyed). */
  protected abstract get closing(): boolean;
  /** Sends a PING; `onAck` on its ACK (null) or the connection's end. False if not sent. */
  protected abstract sendPing(onAck: (error: Error | null) => void): boolean;

  // ── what the engine reports ────────────────────────────────────────────

  /** The TCP connection (TLS: the handshake) completed. */
  protected markConnected(): void {
    this.#connected = true;
  }

  /** The error that ends the session, unless one was recorded first. */
  protected noteFailure(error: Error): void {
    this.#failure ??= error;
  }

  /** The backend's SETTINGS arrived (every one, the first makes the session ready). */
  protected settingsReceived(maxConcurrentStreams: number): void {
    this.#remoteStreamLimit = Math.min(maxConcurrentStreams, MAX_SETTING);
    if (this.#ready) return;
    this.#ready = true;
    this.#connected = true;
    clearTimeout(this.#connectTimer);
    const waiters = this.#readyWaiters;
    this.#readyWaiters = new Set();
    for (const waiter of waiters) waiter();
    this.#events.onReady(this);
    this.#idleSince = performance.now();
    this.#armIdle();
    this.#armKeepalive();
  }

  /** A GOAWAY arrived; `debugData` as latin1 text. */
  protected goawayReceived(code: number, lastStreamId: number, debugData: string): void {
    // A later GOAWAY may lower last-stream-id, never raise it (RFC 9113 §6.8).
    const first = this.#goawayLastStreamId === undefined;
    this.#goawayLastStreamId = Math.min(this.#goawayLastStreamId ?? lastStreamId, lastStreamId);
    if (!first) return;
    this.#goawayCode = code;
    this.logger.debug(
      { endpoint: this.authority, code, lastStreamId, debugData, active: this.#active },
      'upstream GOAWAY',
    );
    if (code === ENHANCE_YOUR_CALM && debugData === 'too_many_pings') {
      this.#events.onTooManyPings(this);
    }
    this.#reportUnusable();
  }

  /** The connection failed; `isFailure` false for what is no failure of ours (a peer's GOAWAY). */
  protected sessionError(error: Error, isFailure = true): void {
    if (isFailure) this.#failure ??= error;
    this.logger.debug({ err: error, endpoint: this.authority }, 'upstream session error');
    const tls = this.options.tls;
    const tlsFailure = tls === undefined ? undefined : describeTlsFailure(error);
    if (tlsFailure !== undefined) {
      this.logger.warn({ endpoint: this.authority, reason: tlsFailure }, 'upstream TLS failed');
    }
    this.#reportUnusable();
    this.#checkConnectFailure();
  }

  /** The connection is gone. */
  protected sessionClosed(): void {
    this.#clearTimers();
    this.#reportUnusable();
    this.#checkConnectFailure();
    this.#events.onClose(this);
  }

  // ── what calls report ──────────────────────────────────────────────────

  /** A call's stream was opened on this session. */
  streamOpened(): void {
    this.#active++;
    this.#opened++;
    this.#armKeepalive();
  }

  /** A call's stream closed. */
  streamClosed(): void {
    this.#active--;
    this.#checkConnectFailure();
    if (this.#active === 0) {
      this.#idleSince = performance.now();
      this.#armIdle();
    }
  }

  /** The proxy sent RST_STREAM on one of this session's streams. */
  noteResetSent(): void {
    this.#resetsSent++;
    const budget = this.options.resetBudget ?? DEFAULT_RESET_BUDGET;
    if (this.#resetsSent >= budget) {
      this.retire(`sent ${this.#resetsSent} RST_STREAMs (budget ${budget})`);
    }
  }

  // ── PooledSession ──────────────────────────────────────────────────────

  /** No new streams; the session closes gracefully once its streams are done. */
  retire(reason: string): void {
    if (this.#retired !== undefined) return;
    this.#retired = reason;
    this.logger.debug(
      { endpoint: this.authority, reason, active: this.#active },
      'upstream session retired',
    );
    this.#reportUnusable();
    this.close();
  }

  /**
   * Calls `waiter` once the backend's SETTINGS arrive (at once if they
   * have); returns how to stop waiting. One set per session instead of a
   * listener per call, however many calls wait.
   */
  whenReady(waiter: () => void): () => void {
    if (this.#ready) {
      waiter();
      return () => undefined;
    }
    this.#readyWaiters.add(waiter);
    return () => this.#readyWaiters.delete(waiter);
  }

  /** The TCP connection and HTTP/2 preface completed at some point. */
  get connected(): boolean {
    return this.#connected;
  }

  get ready(): boolean {
    return this.#ready;
  }

  /** The error that ended or is ending this session, if any. */
  get failure(): Error | undefined {
    return this.#failure;
  }

  get usable(): boolean {
    return (
      !this.closing &&
      this.#failure === undefined &&
      this.#goawayLastStreamId === undefined &&
      this.#retired === undefined
    );
  }

  get retiredBecause(): string | undefined {
    return this.#retired;
  }

  get activeStreams(): number {
    return this.#active;
  }

  get streamsOpened(): number {
    return this.#opened;
  }

  get resetsSent(): number {
    return this.#resetsSent;
  }

  get remoteStreamLimit(): number | undefined {
    return this.#remoteStreamLimit;
  }

  get streamLimit(): number {
    return this.#remoteStreamLimit ?? this.plan.provisionalStreamLimit;
  }

  get goawayLastStreamId(): number | undefined {
    return this.#goawayLastStreamId;
  }

  /** Error code of the (first) GOAWAY received, if any. */
  get goawayCode(): number | undefined {
    return this.#goawayCode;
  }

  // ── timers ─────────────────────────────────────────────────────────────

  #reportUnusable(): void {
    if (this.#unusableReported || this.usable) return;
    this.#unusableReported = true;
    clearTimeout(this.#idleTimer);
    this.#events.onUnusable(this);
  }

  #checkConnectFailure(): void {
    if (this.#ready || this.#connectFailureReported || !this.closing) return;
    this.#connectFailureReported = true;
    clearTimeout(this.#connectTimer);
    const tls = this.options.tls;
    if (tls !== undefined && this.#connected && this.#failure === undefined) {
      // A backend refusing our certificate (or its absence) under TLS 1.3
      // often just closes after the handshake: say what that may mean.
      this.logger.warn(
        { endpoint: this.authority, reason: closedAfterHandshake(tls) },
        'upstream TLS failed',
      );
    }
    this.#events.onConnectFailure(
      this,
      this.#failure ?? new Error('connection closed before the backend’s SETTINGS arrived'),
    );
  }

  /**
   * Lazy idle timer: armed once and never cleared per call (that churn cost
   * measurable CPU under load); when it fires it closes the session only if
   * it has had no stream for the whole idle time, else waits the rest.
   */
  #armIdle(delayMs?: number): void {
    const idleMs = this.options.idleTimeoutMs ?? DEFAULT_IDLE_TIMEOUT_MS;
    if (this.#active > 0 || !this.#ready || !this.usable || this.#idleTimer !== undefined) return;
    this.#idleTimer = setTimeout(() => {
      this.#idleTimer = undefined;
      if (this.#active > 0) return; // re-armed when the last stream closes
      const idleFor = performance.now() - this.#idleSince;
      if (idleFor >= idleMs - 1) this.retire(`idle for ${idleMs}ms`);
      else this.#armIdle(idleMs - idleFor);
    }, delayMs ?? idleMs);
    this.#idleTimer.unref();
  }

  #armKeepalive(): void {
    const keepalive = this.plan.keepalive();
    if (keepalive === undefined || this.#keepaliveTimer !== undefined) return;
    if (this.#pingTimer !== undefined || this.#active === 0) return;
    // PINGs start with the connection (the connect timeout covers the rest).
    if (!this.#ready || this.gone) return;
    this.#keepaliveTimer = setTimeout(() => {
      this.#keepaliveTimer = undefined;
      if (this.#active > 0) this.#ping();
    }, keepalive.intervalMs);
    this.#keepaliveTimer.unref();
  }

  #ping(): void {
    const keepalive = this.plan.keepalive();
    if (keepalive === undefined || this.gone) return;
    const { timeoutMs } = keepalive;
    const onAck = (error: Error | null): void => {
      clearTimeout(this.#pingTimer);
      this.#pingTimer = undefined;
      if (error === null) this.#armKeepalive();
    };
    this.#pingTimer = setTimeout(() => {
      this.#pingTimer = undefined;
      this.logger.warn(
        { endpoint: this.authority, timeoutMs, active: this.#active },
        'upstream keepalive PING not answered; closing the connection',
      );
      this.destroy(new Error(`keepalive PING not answered within ${timeoutMs}ms`));
    }, timeoutMs);
    this.#pingTimer.unref();
    // Not sent (too many outstanding, session going away): try again later.
    if (!this.sendPing(onAck)) onAck(null);
  }

  #clearTimers(): void {
    clearTimeout(this.#connectTimer);
    clearTimeout(this.#idleTimer);
    clearTimeout(this.#keepaliveTimer);
    clearTimeout(this.#pingTimer);
    this.#idleTimer = undefined;
    this.#keepaliveTimer = undefined;
    this.#pingTimer = undefined;
  }
}
