/**
 * One HTTP/2 connection (h2c, or TLS with ALPN h2) to an endpoint, with
 * what the pool and the data path need to know about it:
 *
 * - whether it ever connected (a failed call on a session that never did was
 *   never seen by the backend) and whether the backend's SETTINGS arrived
 *   (only then is its `maxConcurrentStreams` known: `ready`);
 * - the streams open on it, counted here (opened through `request`, closed on
 *   the stream's 'close');
 * - GOAWAY's last-stream-id: streams above it were never processed;
 * - why it failed.
 *
 * It also runs its own timers: connect timeout (until SETTINGS), idle close,
 * keepalive PINGs (gRFC A8), and retires itself after sending too many
 * RST_STREAMs (nghttp2 backends GOAWAY a peer past ~1,000 of them).
 */
import http2, {
  type ClientHttp2Session,
  type ClientHttp2Stream,
  type OutgoingHttpHeaders,
  type Settings,
} from 'node:http2';
import type { Logger } from '../log/logger.js';
import { Http2UpstreamCall } from './http2-upstream-call.js';
import {
  NO_SESSION_EVENTS,
  type KeepaliveOptions,
  type PooledSession,
  type SessionEvents,
  type SessionPlan,
} from './pooled-session.js';
import type { UpstreamCall, UpstreamHandler } from './upstream-call.js';
import {
  closedAfterHandshake,
  describeTlsFailure,
  tlsConnectOptions,
  type UpstreamTlsOptions,
} from './upstream-tls.js';

const { NGHTTP2_ENHANCE_YOUR_CALM } = http2.constants;

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
const MAX_SETTING = 2 ** 32 - 1;

export class UpstreamSession implements PooledSession {
  readonly session: ClientHttp2Session;
  readonly authority: string;
  readonly startedAt: number;
  readonly #options: UpstreamSessionOptions;
  readonly #plan: SessionPlan;
  readonly #events: SessionEvents;
  readonly #logger: Logger;
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

  constructor(
    authority: string,
    options: UpstreamSessionOptions,
    plan: SessionPlan = standalonePlan(options),
    events: SessionEvents = NO_SESSION_EVENTS,
  ) {
    this.authority = authority;
    this.startedAt = plan.startedAt;
    this.#options = options;
    this.#plan = plan;
    this.#events = events;
    this.#logger = options.logger;
    const tls = options.tls;
    const session = http2.connect(`${tls === undefined ? 'http' : 'https'}://${authority}`, {
      ...(tls === undefined ? {} : tlsConnectOptions(tls)),
      settings: { initialWindowSize: options.initialWindowSize, enablePush: false },
      peerMaxConcurrentStreams: Math.min(Math.max(1, plan.peerMaxConcurrentStreams), MAX_SETTING),
      // Calls in flight are bounded by the listeners' stream limits; the
      // default 10 MB session budget would refuse streams under heavy load.
      maxSessionMemory: 64,
    });
    this.session = session;
    this.#connectTimer = setTimeout(() => {
      this.destroy(new Error(`connect timeout after ${Math.round(plan.connectTimeoutMs)}ms`));
    }, plan.connectTimeoutMs);
    this.#connectTimer.unref();
    session.once('connect', () => {
      this.#connected = true;
      // 'connect' can follow a destroy (the peer closed at once), and then this throws.
      if (!session.destroyed) session.setLocalWindowSize(options.connectionWindowSize);
    });
    session.on('remoteSettings', (settings: Settings) => {
      this.#remoteStreamLimit = settings.maxConcurrentStreams ?? MAX_SETTING;
      if (this.#ready) return;
      this.#ready = true;
      const waiters = this.#readyWaiters;
      this.#readyWaiters = new Set();
      for (const waiter of waiters) waiter();
      clearTimeout(this.#connectTimer);
      this.#events.onReady(this);
      this.#idleSince = performance.now();
      this.#armIdle();
      this.#armKeepalive();
    });
    session.on('goaway', (code: number, lastStreamId: number, opaqueData?: Buffer) => {
      // A later GOAWAY may lower last-stream-id, never raise it (RFC 9113 §6.8).
      const first = this.#goawayLastStreamId === undefined;
      this.#goawayLastStreamId = Math.min(this.#goawayLastStreamId ?? lastStreamId, lastStreamId);
      if (!first) return;
      this.#goawayCode = code;
      const debugData = opaqueData?.toString('latin1') ?? '';
      this.#logger.debug(
        { endpoint: authority, code, lastStreamId, debugData, active: this.#active },
        'upstream GOAWAY',
      );
      if (code === NGHTTP2_ENHANCE_YOUR_CALM && debugData === 'too_many_pings') {
        this.#events.onTooManyPings(this);
      }
      this.#reportUnusable();
    });
    session.on('error', (error: Error) => {
      this.#failure ??= error;
      this.#logger.debug({ err: error, endpoint: authority }, 'upstream session error');
      const tlsFailure = tls === undefined ? undefined : describeTlsFailure(error);
      if (tlsFailure !== undefined) {
        this.#logger.warn({ endpoint: authority, reason: tlsFailure }, 'upstream TLS failed');
      }
      this.#reportUnusable();
      this.#checkConnectFailure();
    });
    session.once('close', () => {
      this.#clearTimers();
      this.#reportUnusable();
      this.#checkConnectFailure();
      this.#events.onClose(this);
    });
  }

  openCall(
    headers: OutgoingHttpHeaders,
    endStream: boolean,
    handler: UpstreamHandler,
    onConnected?: () => void,
  ): UpstreamCall {
    return new Http2UpstreamCall(this, headers, endStream, handler, onConnected);
  }

  get gone(): boolean {
    return this.session.destroyed;
  }

  whenGone(): Promise<void> {
    if (this.session.destroyed) return Promise.resolve();
    return new Promise((resolve) => this.session.once('close', () => resolve()));
  }

  /**
   * Opens a stream and counts it until `streamClosed`. Throws what node:http2
   * throws. The caller owns the stream's listeners and must report its
   * 'error' (`streamError`) and 'close' (`streamClosed`): one listener each
   * per call, not two.
   */
  request(headers: OutgoingHttpHeaders, endStream: boolean): ClientHttp2Stream {
    let stream: ClientHttp2Stream;
    try {
      stream = this.session.request(headers, { endStream });
    } catch (error) {
      if ((error as { code?: unknown }).code === 'ERR_HTTP2_OUT_OF_STREAMS') {
        this.retire('stream ids exhausted');
      }
      throw error;
    }
    this.#active++;
    this.#opened++;
    this.#armKeepalive();
    return stream;
  }

  /** A stream opened by `request` emitted 'error'. */
  streamError(error: Error): void {
    // A stream queued while connecting hears of a refused connection first
    // ("pending stream has been canceled"), with the socket error as cause.
    if (!this.#connected && this.session.destroyed) {
      this.#failure ??= error.cause instanceof Error ? error.cause : error;
    }
  }

  /** A stream opened by `request` emitted 'close'. */
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
    const budget = this.#options.resetBudget ?? DEFAULT_RESET_BUDGET;
    if (this.#resetsSent >= budget) {
      this.retire(`sent ${this.#resetsSent} RST_STREAMs (budget ${budget})`);
    }
  }

  /** No new streams; the session closes gracefully once its streams are done. */
  retire(reason: string): void {
    if (this.#retired !== undefined) return;
    this.#retired = reason;
    this.#logger.debug(
      { endpoint: this.authority, reason, active: this.#active },
      'upstream session retired',
    );
    this.#reportUnusable();
    this.close();
  }

  /** Gracefully closes: in-flight streams finish, no new ones. */
  close(): void {
    if (!this.session.closed && !this.session.destroyed) this.session.close();
  }

  /** Ends the session at once; its streams fail with `error` as the reason. */
  destroy(error: Error): void {
    if (this.session.destroyed) return;
    this.#failure ??= error;
    this.session.destroy(error);
  }

  /** The TCP connection and HTTP/2 preface completed at some point. */
  get connected(): boolean {
    return this.#connected;
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

  /** The backend's SETTINGS arrived: its stream limit is known. */
  get ready(): boolean {
    return this.#ready;
  }

  /** The error that ended or is ending this session, if any. */
  get failure(): Error | undefined {
    return this.#failure;
  }

  /** New streams may be opened on it. */
  get usable(): boolean {
    return (
      !this.session.closed &&
      !this.session.destroyed &&
      this.#failure === undefined &&
      this.#goawayLastStreamId === undefined &&
      this.#retired === undefined
    );
  }

  /** Why the session was retired, if it was. */
  get retiredBecause(): string | undefined {
    return this.#retired;
  }

  /** Streams open on it now. */
  get activeStreams(): number {
    return this.#active;
  }

  /** Streams ever opened on it. */
  get streamsOpened(): number {
    return this.#opened;
  }

  get resetsSent(): number {
    return this.#resetsSent;
  }

  /** The backend's SETTINGS_MAX_CONCURRENT_STREAMS, once known. */
  get remoteStreamLimit(): number | undefined {
    return this.#remoteStreamLimit;
  }

  /** Streams it should carry at once: the backend's limit, or the provisional one until known. */
  get streamLimit(): number {
    return this.#remoteStreamLimit ?? this.#plan.provisionalStreamLimit;
  }

  /** last-stream-id of the GOAWAY received, if any. */
  get goawayLastStreamId(): number | undefined {
    return this.#goawayLastStreamId;
  }

  /** Error code of the (first) GOAWAY received, if any. */
  get goawayCode(): number | undefined {
    return this.#goawayCode;
  }

  /**
   * The backend never processed this stream: GOAWAY said so (its id is above
   * last-stream-id), or it never got an id before GOAWAY.
   */
  neverProcessed(stream: ClientHttp2Stream): boolean {
    const last = this.#goawayLastStreamId;
    return last !== undefined && (stream.id === undefined || stream.id > last);
  }

  #reportUnusable(): void {
    if (this.#unusableReported || this.usable) return;
    this.#unusableReported = true;
    clearTimeout(this.#idleTimer);
    this.#events.onUnusable(this);
  }

  #checkConnectFailure(): void {
    if (this.#ready || this.#connectFailureReported) return;
    if (!this.session.destroyed && !this.session.closed) return;
    this.#connectFailureReported = true;
    clearTimeout(this.#connectTimer);
    const tls = this.#options.tls;
    if (tls !== undefined && this.#connected && this.#failure === undefined) {
      // A backend refusing our certificate (or its absence) under TLS 1.3
      // often just closes after the handshake: say what that may mean.
      this.#logger.warn(
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
    const idleMs = this.#options.idleTimeoutMs ?? DEFAULT_IDLE_TIMEOUT_MS;
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
    const keepalive = this.#plan.keepalive();
    if (keepalive === undefined || this.#keepaliveTimer !== undefined) return;
    if (this.#pingTimer !== undefined || this.#active === 0) return;
    // PINGs start with the connection (the connect timeout covers the rest).
    if (!this.#ready || this.session.destroyed) return;
    this.#keepaliveTimer = setTimeout(() => {
      this.#keepaliveTimer = undefined;
      if (this.#active > 0) this.#ping();
    }, keepalive.intervalMs);
    this.#keepaliveTimer.unref();
  }

  #ping(): void {
    const keepalive = this.#plan.keepalive();
    if (keepalive === undefined || this.session.destroyed) return;
    const { timeoutMs } = keepalive;
    const onAck = (error: Error | null): void => {
      clearTimeout(this.#pingTimer);
      this.#pingTimer = undefined;
      if (error === null) this.#armKeepalive();
    };
    this.#pingTimer = setTimeout(() => {
      this.#pingTimer = undefined;
      this.#logger.warn(
        { endpoint: this.authority, timeoutMs, active: this.#active },
        'upstream keepalive PING not answered; closing the connection',
      );
      this.destroy(new Error(`keepalive PING not answered within ${timeoutMs}ms`));
    }, timeoutMs);
    this.#pingTimer.unref();
    let sent: boolean;
    try {
      sent = this.session.ping(onAck);
    } catch {
      sent = false;
    }
    // Not sent (too many outstanding, session going away): try again later.
    if (!sent) onAck(null);
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

/** A session opened outside a pool: the minimum connect timeout, conservative limits. */
function standalonePlan(options: UpstreamSessionOptions): SessionPlan {
  return {
    connectTimeoutMs: options.connectTimeoutMs,
    startedAt: performance.now(),
    provisionalStreamLimit: DEFAULT_PROVISIONAL_STREAM_LIMIT,
    peerMaxConcurrentStreams: 1,
    keepalive: () => options.keepalive,
  };
}
