/**
 * One switchyard-engine HTTP/2 connection to an endpoint, for the session
 * pool: the same contract as the node:http2 `UpstreamSession` (connect
 * timeout until the backend's SETTINGS, GOAWAY's last-stream-id, idle close,
 * keepalive PINGs, a reset budget), over `connectH2`.
 */
import net from 'node:net';
import type { OutgoingHttpHeaders } from 'node:http2';
import { ENHANCE_YOUR_CALM, NO_ERROR, errorCodeName } from '../h2/constants.js';
import { connectH2 } from '../h2/h2-client.js';
import type { H2Connection } from '../h2/h2-connection.js';
import { H2ConnectionError } from '../h2/h2-error.js';
import type { Logger } from '../log/logger.js';
import type { PooledSession, SessionEvents, SessionPlan } from '../upstream/pooled-session.js';
import type { UpstreamCall, UpstreamHandler } from '../upstream/upstream-call.js';
import {
  DEFAULT_IDLE_TIMEOUT_MS,
  DEFAULT_RESET_BUDGET,
  type UpstreamSessionOptions,
} from '../upstream/upstream-session.js';
import {
  closedAfterHandshake,
  describeTlsFailure,
  tlsConnectOptions,
} from '../upstream/upstream-tls.js';
import { NativeUpstreamCall } from './native-upstream-call.js';

/** SETTINGS_MAX_CONCURRENT_STREAMS absent means unlimited. */
const MAX_SETTING = 2 ** 32 - 1;

export class NativeUpstreamSession implements PooledSession {
  readonly authority: string;
  readonly startedAt: number;
  readonly connection: H2Connection;
  readonly #options: UpstreamSessionOptions;
  readonly #plan: SessionPlan;
  readonly #events: SessionEvents;
  readonly #logger: Logger;
  #connected = false;
  #ready = false;
  #gone = false;
  #failure: Error | undefined;
  #goawayLastStreamId: number | undefined;
  #goawayCode: number | undefined;
  #retired: string | undefined;
  #remoteStreamLimit: number | undefined;
  #active = 0;
  #idleSince = performance.now();
  #opened = 0;
  #resetsSent = 0;
  #connectFailureReported = false;
  #unusableReported = false;
  #connectTimer: NodeJS.Timeout | undefined;
  #idleTimer: NodeJS.Timeout | undefined;
  #keepaliveTimer: NodeJS.Timeout | undefined;
  #pingTimer: NodeJS.Timeout | undefined;
  #readyWaiters = new Set<() => void>();
  #goneWaiters: (() => void)[] = [];

  constructor(
    authority: string,
    options: UpstreamSessionOptions,
    plan: SessionPlan,
    events: SessionEvents,
  ) {
    this.authority = authority;
    this.startedAt = plan.startedAt;
    this.#options = options;
    this.#plan = plan;
    this.#events = events;
    this.#logger = options.logger;
    const { host, port } = splitAuthority(authority);
    const tls = options.tls;
    this.connection = connectH2(
      host,
      port,
      {
        role: 'client',
        settings: { initialWindowSize: options.initialWindowSize, enablePush: false },
        connectionWindow: options.connectionWindowSize,
        // As UpstreamSession: never more before SETTINGS than the backend
        // allowed last time, so calls made while connecting are not refused.
        peerMaxConcurrentStreams: Math.min(Math.max(1, plan.peerMaxConcurrentStreams), MAX_SETTING),
        ...(tls === undefined
          ? {}
          : {
              tls: {
                ...tlsConnectOptions(tls),
                servername: tls.serverName ?? (net.isIP(host) === 0 ? host : ''),
              },
            }),
      },
      {
        onRemoteSettings: (settings) => this.#onSettings(settings.maxConcurrentStreams),
        onGoaway: (code, lastStreamId, debugData) => this.#onGoaway(code, lastStreamId, debugData),
        onError: (error) => this.#onError(error),
        onClose: () => this.#onClose(),
      },
    );
    this.connection.socket.once(tls === undefined ? 'connect' : 'secureConnect', () => {
      this.#connected = true;
    });
    this.#connectTimer = setTimeout(() => {
      this.destroy(new Error(`connect timeout after ${Math.round(plan.connectTimeoutMs)}ms`));
    }, plan.connectTimeoutMs);
    this.#connectTimer.unref();
  }

  openCall(
    headers: OutgoingHttpHeaders,
    endStream: boolean,
    handler: UpstreamHandler,
    onConnected?: () => void,
  ): UpstreamCall {
    return new NativeUpstreamCall(this, headers, endStream, handler, onConnected);
  }

  /** A call's stream was opened on this connection. */
  streamOpened(): void {
    this.#active++;
    this.#opened++;
    this.#armKeepalive();
  }

  /** A call's stream closed. */
  streamClosed(): void {
    this.#active--;
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

  close(): void {
    if (!this.#gone) this.connection.close();
  }

  destroy(error: Error): void {
    if (this.#gone) return;
    this.#failure ??= error;
    this.connection.destroy(error);
  }

  whenReady(waiter: () => void): () => void {
    if (this.#ready) {
      waiter();
      return () => undefined;
    }
    this.#readyWaiters.add(waiter);
    return () => this.#readyWaiters.delete(waiter);
  }

  /** Resolves once the socket closed and the pool heard of it (onClose). */
  whenGone(): Promise<void> {
    if (this.#gone) return Promise.resolve();
    return new Promise((resolve) => this.#goneWaiters.push(resolve));
  }

  get connected(): boolean {
    return this.#connected;
  }

  get ready(): boolean {
    return this.#ready;
  }

  /** Closed, or destroyed (at once, like node:http2's `destroyed`, before the socket's close). */
  get gone(): boolean {
    return this.#gone || this.connection.closed;
  }

  get failure(): Error | undefined {
    return this.#failure;
  }

  get usable(): boolean {
    return (
      !this.#gone &&
      this.#failure === undefined &&
      this.#goawayLastStreamId === undefined &&
      this.#retired === undefined &&
      this.connection.acceptingStreams
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
    return this.#remoteStreamLimit ?? this.#plan.provisionalStreamLimit;
  }

  get goawayLastStreamId(): number | undefined {
    return this.#goawayLastStreamId;
  }

  get goawayCode(): number | undefined {
    return this.#goawayCode;
  }

  /** Why the connection is failing or failed, for a call's error message. */
  describeLoss(): string {
    const goaway = this.#goawayCode;
    return (
      this.#failure?.message ??
      (goaway === undefined || goaway === NO_ERROR
        ? 'connection closed'
        : `connection closed after GOAWAY ${errorCodeName(goaway)}`)
    );
  }

  #onSettings(maxConcurrentStreams: number): void {
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

  #onGoaway(code: number, lastStreamId: number, debugData: Buffer): void {
    const first = this.#goawayLastStreamId === undefined;
    this.#goawayLastStreamId = Math.min(this.#goawayLastStreamId ?? lastStreamId, lastStreamId);
    if (!first) return;
    this.#goawayCode = code;
    const text = debugData.toString('latin1');
    this.#logger.debug(
      { endpoint: this.authority, code, lastStreamId, debugData: text, active: this.#active },
      'upstream GOAWAY',
    );
    if (code === ENHANCE_YOUR_CALM && text === 'too_many_pings') this.#events.onTooManyPings(this);
    this.#reportUnusable();
  }

  #onError(error: Error): void {
    // A GOAWAY with an error code (reported after onGoaway) is not a failure
    // of ours: calls it ends say "connection closed after GOAWAY <code>".
    const peerGoaway = error instanceof H2ConnectionError && error.code === this.#goawayCode;
    if (!peerGoaway) this.#failure ??= error;
    this.#logger.debug({ err: error, endpoint: this.authority }, 'upstream session error');
    const tls = this.#options.tls;
    const tlsFailure = tls === undefined ? undefined : describeTlsFailure(error);
    if (tlsFailure !== undefined) {
      this.#logger.warn({ endpoint: this.authority, reason: tlsFailure }, 'upstream TLS failed');
    }
    this.#reportUnusable();
  }

  #onClose(): void {
    this.#gone = true;
    this.#clearTimers();
    this.#reportUnusable();
    this.#checkConnectFailure();
    this.#events.onClose(this);
    const waiters = this.#goneWaiters;
    this.#goneWaiters = [];
    for (const waiter of waiters) waiter();
  }

  #reportUnusable(): void {
    if (this.#unusableReported || this.usable) return;
    this.#unusableReported = true;
    clearTimeout(this.#idleTimer);
    this.#events.onUnusable(this);
  }

  #checkConnectFailure(): void {
    if (this.#ready || this.#connectFailureReported) return;
    this.#connectFailureReported = true;
    clearTimeout(this.#connectTimer);
    const tls = this.#options.tls;
    if (tls !== undefined && this.#connected && this.#failure === undefined) {
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

  /** Lazy idle timer, as in UpstreamSession: armed once, never cleared per call. */
  #armIdle(delayMs?: number): void {
    const idleMs = this.#options.idleTimeoutMs ?? DEFAULT_IDLE_TIMEOUT_MS;
    if (this.#active > 0 || !this.#ready || !this.usable || this.#idleTimer !== undefined) return;
    this.#idleTimer = setTimeout(() => {
      this.#idleTimer = undefined;
      if (this.#active > 0) return;
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
    if (!this.#ready || this.#gone) return;
    this.#keepaliveTimer = setTimeout(() => {
      this.#keepaliveTimer = undefined;
      if (this.#active > 0) this.#ping();
    }, keepalive.intervalMs);
    this.#keepaliveTimer.unref();
  }

  #ping(): void {
    const keepalive = this.#plan.keepalive();
    if (keepalive === undefined || this.#gone) return;
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
    if (!this.connection.ping(onAck)) onAck(null);
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

function splitAuthority(authority: string): { host: string; port: number } {
  const colon = authority.lastIndexOf(':');
  const host = authority.slice(0, colon).replace(/^\[(.*)\]$/, '$1');
  return { host, port: Number(authority.slice(colon + 1)) };
}
