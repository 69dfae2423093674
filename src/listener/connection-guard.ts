/**
 * Per-connection protections of a listener against abusive HTTP/2 clients:
 * rapid reset (CVE-2023-44487), PING and SETTINGS floods, idle connections
 * and connections that never complete their handshake. Each client session
 * gets one `SessionGuard`; the listener tells it about streams and it cuts
 * the session when the client goes past a limit.
 *
 * Node's own rapid-reset defence (nghttp2's stream reset rate limit, on
 * Node 20 an INTERNAL_ERROR GOAWAY after about 1000 resets) cannot be tuned;
 * this one trips much earlier and says ENHANCE_YOUR_CALM.
 */
import http2, { type ServerHttp2Session, type ServerHttp2Stream } from 'node:http2';
import { requireDuration } from '../config/duration.js';
import { DEFAULTS, type ListenerLimitsConfig } from '../config/schema.js';
import { MAX_TIMER_MS } from '../grpc/grpc-timeout.js';

const { NGHTTP2_ENHANCE_YOUR_CALM } = http2.constants;

/** The listener limits this module enforces, resolved from config with defaults. */
export interface ConnectionLimits {
  readonly maxResetsPerSecond: number;
  readonly maxPingsPerSecond: number;
  /** 0: connections are never closed for being idle. */
  readonly idleTimeoutMs: number;
  /** 0: no handshake deadline. */
  readonly handshakeTimeoutMs: number;
  readonly maxConnections: number;
}

export function connectionLimits(limits: ListenerLimitsConfig | undefined): ConnectionLimits {
  return {
    maxResetsPerSecond: limits?.max_resets_per_second ?? DEFAULTS.maxResetsPerSecond,
    maxPingsPerSecond: limits?.max_pings_per_second ?? DEFAULTS.maxPingsPerSecond,
    idleTimeoutMs: timerMs(limits?.idle_timeout ?? DEFAULTS.clientIdleTimeout),
    handshakeTimeoutMs: timerMs(limits?.handshake_timeout ?? DEFAULTS.handshakeTimeout),
    maxConnections: limits?.max_connections ?? DEFAULTS.maxClientConnections,
  };
}

function timerMs(duration: string): number {
  return Math.min(requireDuration(duration), MAX_TIMER_MS);
}

/** Bursts allowed above the steady rate: this many seconds' worth. */
export const BURST_SECONDS = 2;

/**
 * A token bucket: `ratePerSecond` tokens a second, holding at most
 * `ratePerSecond * BURST_SECONDS`. Starts full.
 */
export class TokenBucket {
  readonly #rate: number;
  readonly #capacity: number;
  readonly #now: () => number;
  #tokens: number;
  #at: number;

  constructor(ratePerSecond: number, now: () => number = () => performance.now()) {
    this.#rate = ratePerSecond / 1000;
    this.#capacity = ratePerSecond * BURST_SECONDS;
    this.#now = now;
    this.#tokens = this.#capacity;
    this.#at = now();
  }

  /** Takes one token; false when the bucket is empty (the caller is over the rate). */
  take(): boolean {
    const now = this.#now();
    this.#tokens = Math.min(this.#capacity, this.#tokens + (now - this.#at) * this.#rate);
    this.#at = now;
    if (this.#tokens < 1) return false;
    this.#tokens -= 1;
    return true;
  }
}

/**
 * Streams the proxy itself reset (or cancelled): their 'aborted' is not the
 * client's doing and does not count against it.
 */
const localResets = new WeakSet<ServerHttp2Stream>();

/** Records that the proxy, not the client, is about to close `stream` early. */
export function markLocalReset(stream: ServerHttp2Stream): void {
  localResets.add(stream);
}

/** Why a session was cut, for logs and tests. */
export type AbuseKind = 'rapid_reset' | 'ping_flood';

export interface SessionGuardEvents {
  /** The session went past a limit and is being closed with ENHANCE_YOUR_CALM. */
  onAbuse(kind: AbuseKind): void;
  /** The session had no stream for idle_timeout: close it gracefully. */
  onIdle(): void;
}

export class SessionGuard {
  readonly #session: ServerHttp2Session;
  readonly #limits: ConnectionLimits;
  readonly #events: SessionGuardEvents;
  readonly #resets: TokenBucket;
  readonly #pings: TokenBucket;
  #open = 0;
  /** performance.now() when the last stream closed (the idle clock starts then). */
  #idleSince = performance.now();
  /**
   * Lazy idle timer: armed once, never cleared per stream (a call that
   * opens and closes the only stream would otherwise cost a clearTimeout and
   * a setTimeout); when it fires it checks the real idle time and re-arms
   * for the rest.
   */
  #idleTimer: NodeJS.Timeout | undefined;
  #cut = false;

  constructor(session: ServerHttp2Session, limits: ConnectionLimits, events: SessionGuardEvents) {
    this.#session = session;
    this.#limits = limits;
    this.#events = events;
    this.#resets = new TokenBucket(limits.maxResetsPerSecond);
    this.#pings = new TokenBucket(limits.maxPingsPerSecond);
    // The first SETTINGS is the client preface; later ones count like PINGs.
    let prefaceSeen = false;
    session.on('remoteSettings', () => {
      if (!prefaceSeen) {
        prefaceSeen = true;
        return;
      }
      if (!this.#pings.take()) this.#abuse('ping_flood');
    });
    session.on('ping', () => {
      if (!this.#pings.take()) this.#abuse('ping_flood');
    });
    session.once('close', () => clearTimeout(this.#idleTimer));
    this.#armIdle(limits.idleTimeoutMs);
  }

  /** The session was cut for abuse: streams it still delivers must not be served. */
  get cut(): boolean {
    return this.#cut;
  }

  /** A stream opened on the session; returns false when the session was cut and the stream must be dropped. */
  onStream(stream: ServerHttp2Stream): boolean {
    if (this.#cut) return false;
    this.#open++;
    stream.once('aborted', () => {
      if (!localResets.has(stream) && !this.#resets.take()) this.#abuse('rapid_reset');
    });
    return true;
  }

  /** A stream `onStream` admitted has closed (the listener's one 'close' listener calls this). */
  onStreamClosed(): void {
    this.#open--;
    if (this.#open === 0) {
      this.#idleSince = performance.now();
      this.#armIdle(this.#limits.idleTimeoutMs);
    }
  }

  /** Arms the idle timer unless one is pending (it re-checks when it fires). */
  #armIdle(ms: number): void {
    if (this.#limits.idleTimeoutMs === 0 || this.#cut || this.#idleTimer !== undefined) return;
    this.#idleTimer = setTimeout(() => {
      this.#idleTimer = undefined;
      if (this.#open > 0 || this.#cut) return;
      const left = this.#idleSince + this.#limits.idleTimeoutMs - performance.now();
      if (left > 1) this.#armIdle(left);
      else this.#events.onIdle();
    }, ms);
    this.#idleTimer.unref();
  }

  /** GOAWAY ENHANCE_YOUR_CALM, then the connection is destroyed (its streams are cancelled). */
  #abuse(kind: AbuseKind): void {
    if (this.#cut) return;
    this.#cut = true;
    clearTimeout(this.#idleTimer);
    this.#events.onAbuse(kind);
    const session = this.#session;
    if (session.destroyed || session.closed) return;
    // The GOAWAY is submitted now; the destroy waits a turn so that it is
    // written out (destroying in the same turn, node sends its own GOAWAY
    // with NO_ERROR instead). Streams still arriving meanwhile are refused.
    session.goaway(NGHTTP2_ENHANCE_YOUR_CALM);
    setImmediate(() => {
      if (!session.destroyed) session.destroy();
    });
  }
}
