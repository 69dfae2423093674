/**
 * The HTTP/2 connections to one endpoint.
 *
 * Calls multiplex over the oldest ready session with room under the
 * backend's SETTINGS_MAX_CONCURRENT_STREAMS (counted per session, not
 * trusted before the backend's SETTINGS arrive). When every usable session
 * is full another is opened, up to `maxSessions`; at the cap the least
 * loaded one takes the call and nghttp2 queues it. A session that received
 * GOAWAY, failed, went idle or spent its reset budget takes no new streams.
 *
 * A failed connection starts reconnect back-off (connection-backoff.md): the
 * pool retries on its own timer, so a restarted backend comes back without
 * traffic; while it backs off with no usable session the endpoint is held out
 * of balancing (`connect_failure` health flag) and `acquire()` throws
 * `upstream_connect_failed`. A connection that succeeds clears both.
 */
import type { ConcurrencyLimit } from '../breaker/concurrency-limit.js';
import type { EngineName } from '../config/schema.js';
import { ProxyError } from '../errors/proxy-error.js';
import { HealthFlags } from '../health/health-flags.js';
import type { Logger } from '../log/logger.js';
import {
  ConnectionBackoff,
  GRPC_BACKOFF,
  type BackoffAttempt,
  type BackoffClock,
  type BackoffPolicy,
} from './backoff.js';
import { NativeUpstreamSession } from '../engine/native-upstream-session.js';
import type {
  KeepaliveOptions,
  PooledSession,
  SessionEvents,
  SessionPlan,
} from './pooled-session.js';
import {
  DEFAULT_PROVISIONAL_STREAM_LIMIT,
  UpstreamSession,
  type UpstreamSessionOptions,
} from './upstream-session.js';

export interface SessionPoolOptions extends UpstreamSessionOptions {
  /** Which HTTP/2 engine carries the sessions; node:http2 by default. */
  readonly engine?: EngineName;
  /** Sessions to one endpoint at most. Default 16. */
  readonly maxSessions?: number;
  /** Overrides of connection-backoff.md's constants (tests). */
  readonly backoff?: Partial<Omit<BackoffPolicy, 'minConnectTimeoutMs'>>;
  readonly clock?: BackoffClock;
  readonly random?: () => number;
  /**
   * The cluster's `max_connections`, shared by its endpoints' pools: a
   * session takes a slot from open to close. At the cap a call shares an
   * open session (nghttp2 queues it past the stream limit); with none open
   * it fails `cluster_overloaded`.
   */
  readonly connectionLimit?: ConcurrencyLimit;
}

export const DEFAULT_MAX_SESSIONS = 16;

export class SessionPool {
  readonly authority: string;
  readonly #options: SessionPoolOptions;
  readonly #health: HealthFlags;
  readonly #clock: BackoffClock;
  readonly #backoff: ConnectionBackoff;
  readonly #maxSessions: number;
  /** Open sessions, oldest first. */
  readonly #sessions = new Set<PooledSession>();
  readonly #events: SessionEvents;
  #keepalive: KeepaliveOptions | undefined;
  /** The backend's stream limit as its latest SETTINGS gave it. */
  #learnedLimit: number | undefined;
  #backingOff = false;
  #retryAttempt: BackoffAttempt | undefined;
  #retrySession: PooledSession | undefined;
  #retryTimer: NodeJS.Timeout | undefined;
  #lastConnectError: Error | undefined;
  #sessionsOpened = 0;
  #connectFailures = 0;
  /** The cluster's `max_connections` count this pool's sessions take a slot of. */
  #connectionLimit: ConcurrencyLimit | undefined;
  #closed = false;

  constructor(authority: string, options: SessionPoolOptions, health = new HealthFlags()) {
    this.authority = authority;
    this.#options = options;
    this.#health = health;
    this.#clock = options.clock ?? { now: () => performance.now() };
    this.#maxSessions = options.maxSessions ?? DEFAULT_MAX_SESSIONS;
    this.#keepalive = options.keepalive;
    this.#connectionLimit = options.connectionLimit;
    this.#backoff = new ConnectionBackoff(
      { ...GRPC_BACKOFF, ...options.backoff, minConnectTimeoutMs: options.connectTimeoutMs },
      { clock: this.#clock, ...(options.random === undefined ? {} : { random: options.random }) },
    );
    this.#events = {
      onReady: (s) => this.#onReady(s),
      onConnectFailure: (s, error) => this.#onConnectFailure(s, error),
      onUnusable: () => this.#refreshHealth(),
      onTooManyPings: () => this.#slowKeepalive(),
      onClose: (s) => {
        if (this.#sessions.delete(s)) this.#connectionLimit?.release();
        if (this.#retrySession === s) this.#retrySession = undefined;
        this.#refreshHealth();
      },
    };
  }

  /**
   * A session to open one stream on (open it with `session.request`, which
   * counts it). Throws `upstream_connect_failed` while the endpoint is in
   * reconnect back-off with no usable session, or after `close()`.
   */
  acquire(): PooledSession {
    if (this.#closed) {
      throw new ProxyError('upstream_connect_failed', `upstream ${this.authority}: pool closed`);
    }
    let usable = 0;
    let connecting: PooledSession | undefined;
    let leastLoaded: PooledSession | undefined;
    for (const session of this.#sessions) {
      if (!session.usable) continue;
      // A back-off attempt still connecting takes no calls: they would wait on it.
      if (!session.ready && this.#backingOff) continue;
      usable++;
      const room = session.activeStreams < session.streamLimit;
      if (room && session.ready) return session;
      if (room && connecting === undefined) connecting = session;
      if (leastLoaded === undefined || lessLoaded(session, leastLoaded)) leastLoaded = session;
    }
    // Before its SETTINGS a session takes up to the limit the last one reported.
    if (connecting !== undefined) return connecting;
    if (this.#backingOff) {
      if (leastLoaded !== undefined) return leastLoaded;
      throw this.#backoffError();
    }
    if (usable < this.#maxSessions || leastLoaded === undefined) {
      if (this.#connectionLimit?.tryAcquire() ?? true) {
        return this.#open(this.#backoff.firstConnectTimeoutMs);
      }
      if (leastLoaded !== undefined) return leastLoaded;
      throw new ProxyError(
        'cluster_overloaded',
        `upstream ${this.authority}: no connection open and the cluster is at circuit_breaker.max_connections (${this.#connectionLimit?.max ?? 0} connections)`,
      );
    }
    return leastLoaded;
  }

  /** Open sessions, oldest first (for tests and admin views). */
  get sessions(): readonly PooledSession[] {
    return [...this.#sessions];
  }

  /** Sessions opened since the pool was created. */
  get sessionsOpened(): number {
    return this.#sessionsOpened;
  }

  /**
   * Moves this pool's open sessions to another `max_connections` count: a
   * reload changed the cluster and its new Cluster took this endpoint over.
   */
  useConnectionLimit(limit: ConcurrencyLimit | undefined): void {
    const open = this.#sessions.size;
    for (let i = 0; i < open; i++) this.#connectionLimit?.release();
    this.#connectionLimit = limit;
    for (let i = 0; i < open; i++) limit?.takeOver();
  }

  /** Connections that failed before the backend's SETTINGS arrived, since the pool was created. */
  get connectFailures(): number {
    return this.#connectFailures;
  }

  /** A connection failed and none has succeeded since. */
  get inBackoff(): boolean {
    return this.#backingOff;
  }

  /** The keepalive in force (slowed down after a too_many_pings GOAWAY). */
  get keepalive(): KeepaliveOptions | undefined {
    return this.#keepalive;
  }

  get logger(): Logger {
    return this.#options.logger;
  }

  /**
   * Stops reconnecting and gracefully closes every session; in-flight
   * streams finish first. Sessions still connecting are destroyed.
   */
  async close(): Promise<void> {
    this.#closed = true;
    clearTimeout(this.#retryTimer);
    this.#retryTimer = undefined;
    const closing = [...this.#sessions].map(
      (s) =>
        new Promise<void>((resolve) => {
          if (s.gone) {
            resolve();
            return;
          }
          void s.whenGone().then(resolve);
          // One whose backend never sent SETTINGS has nothing to finish gracefully
          // and may never answer a GOAWAY: it is cut, not closed.
          if (s.ready) s.close();
          else s.destroy(new Error('pool closed before the connection was established'));
        }),
    );
    await Promise.all(closing);
  }

  /** Opens a session; its `connectionLimit` slot (when there is one) is already taken. */
  #open(connectTimeoutMs: number): PooledSession {
    const learned = this.#learnedLimit;
    const plan: SessionPlan = {
      connectTimeoutMs,
      startedAt: this.#clock.now(),
      provisionalStreamLimit: learned ?? DEFAULT_PROVISIONAL_STREAM_LIMIT,
      // Never more before SETTINGS than the backend allowed last time
      // (one when unknown): no REFUSED_STREAM for calls made while connecting.
      peerMaxConcurrentStreams: learned ?? 1,
      keepalive: () => this.#keepalive,
    };
    const session =
      this.#options.engine === 'switchyard'
        ? new NativeUpstreamSession(this.authority, this.#options, plan, this.#events)
        : new UpstreamSession(this.authority, this.#options, plan, this.#events);
    this.#sessions.add(session);
    this.#sessionsOpened++;
    return session;
  }

  #onReady(session: PooledSession): void {
    this.#learnedLimit = session.remoteStreamLimit;
    if (this.#backingOff) {
      this.#options.logger.info(
        { endpoint: this.authority, attempts: this.#backoff.attempts },
        'upstream reconnected',
      );
    }
    this.#backingOff = false;
    this.#backoff.reset();
    clearTimeout(this.#retryTimer);
    this.#retryTimer = undefined;
    this.#retryAttempt = undefined;
    this.#retrySession = undefined;
    this.#refreshHealth();
  }

  #onConnectFailure(session: PooledSession, error: Error): void {
    this.#lastConnectError = error;
    this.#connectFailures++;
    if (this.#closed) return;
    if (!this.#backingOff) {
      // The failed session was the sequence's first attempt.
      this.#backingOff = true;
      this.#backoff.reset();
      this.#scheduleRetry(this.#backoff.beginAttempt(session.startedAt));
    } else if (session === this.#retrySession && this.#retryAttempt !== undefined) {
      this.#retrySession = undefined;
      this.#scheduleRetry(this.#retryAttempt);
    }
    // else: opened before the back-off began; the sequence already runs.
    this.#refreshHealth();
  }

  #scheduleRetry(after: BackoffAttempt): void {
    clearTimeout(this.#retryTimer);
    const delayMs = this.#backoff.delayUntilRetry(after);
    this.#retryAttempt = after;
    this.#options.logger.info(
      {
        endpoint: this.authority,
        err: this.#lastConnectError,
        attempt: this.#backoff.attempts,
        retryInMs: Math.round(delayMs),
      },
      'upstream connection failed; reconnecting after back-off',
    );
    this.#retryTimer = setTimeout(() => this.#retry(), delayMs);
    this.#retryTimer.unref();
  }

  #retry(): void {
    this.#retryTimer = undefined;
    if (this.#closed || !this.#backingOff) return;
    if (!(this.#connectionLimit?.tryAcquire() ?? true)) {
      // The cluster has all its connections: skip this attempt, try after the next step.
      this.#scheduleRetry(this.#backoff.beginAttempt());
      return;
    }
    const attempt = this.#backoff.beginAttempt();
    this.#retryAttempt = attempt;
    this.#retrySession = this.#open(attempt.connectTimeoutMs);
  }

  #backoffError(): ProxyError {
    const reason = this.#lastConnectError?.message ?? 'connection failed';
    const when =
      this.#retryTimer === undefined || this.#retryAttempt === undefined
        ? 'reconnecting now'
        : `next attempt in ${Math.ceil(this.#backoff.delayUntilRetry(this.#retryAttempt))}ms`;
    return new ProxyError(
      'upstream_connect_failed',
      `upstream ${this.authority}: in reconnect back-off after "${reason}"; ${when}`,
    );
  }

  /** Held out of balancing while backing off with no session that can take a call. */
  #refreshHealth(): void {
    if (this.#backingOff && !this.#hasReadySession()) this.#health.set('connect_failure');
    else this.#health.clear('connect_failure');
  }

  #hasReadySession(): boolean {
    for (const session of this.#sessions) if (session.ready && session.usable) return true;
    return false;
  }

  /** gRFC A8: a backend that GOAWAYs with too_many_pings gets half as many. */
  #slowKeepalive(): void {
    const current = this.#keepalive;
    if (current === undefined) return;
    this.#keepalive = { ...current, intervalMs: current.intervalMs * 2 };
    this.#options.logger.warn(
      { endpoint: this.authority, intervalMs: this.#keepalive.intervalMs },
      'upstream GOAWAY too_many_pings: keepalive interval doubled',
    );
  }
}

/** Fewer streams beyond its limit (queued in nghttp2); on a tie, fewer streams. */
function lessLoaded(a: PooledSession, b: PooledSession): boolean {
  const excessA = a.activeStreams - a.streamLimit;
  const excessB = b.activeStreams - b.streamLimit;
  return excessA !== excessB ? excessA < excessB : a.activeStreams < b.activeStreams;
}
