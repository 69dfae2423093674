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
 * Its timers (connect timeout, idle close, keepalive PINGs) and its reset
 * budget are `SessionLifecycle`'s, shared with the switchyard engine.
 */
import http2, {
  type ClientHttp2Session,
  type ClientHttp2Stream,
  type OutgoingHttpHeaders,
  type Settings,
} from 'node:http2';
import { Http2UpstreamCall } from './http2-upstream-call.js';
import { NO_SESSION_EVENTS, type SessionEvents, type SessionPlan } from './pooled-session.js';
import {
  MAX_SETTING,
  SessionLifecycle,
  standalonePlan,
  type UpstreamSessionOptions,
} from './session-lifecycle.js';
import type { UpstreamCall, UpstreamHandler, UpstreamRequestHead } from './upstream-call.js';
import { tlsConnectOptions } from './upstream-tls.js';

export {
  DEFAULT_IDLE_TIMEOUT_MS,
  DEFAULT_PROVISIONAL_STREAM_LIMIT,
  DEFAULT_RESET_BUDGET,
  type UpstreamSessionOptions,
} from './session-lifecycle.js';

export class UpstreamSession extends SessionLifecycle {
  readonly session: ClientHttp2Session;

  constructor(
    authority: string,
    options: UpstreamSessionOptions,
    plan: SessionPlan = standalonePlan(options),
    events: SessionEvents = NO_SESSION_EVENTS,
  ) {
    super(authority, options, plan, events);
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
    session.once('connect', () => {
      this.markConnected();
      // 'connect' can follow a destroy (the peer closed at once), and then this throws.
      if (!session.destroyed) session.setLocalWindowSize(options.connectionWindowSize);
    });
    session.on('remoteSettings', (settings: Settings) => {
      this.settingsReceived(settings.maxConcurrentStreams ?? MAX_SETTING);
    });
    session.on('goaway', (code: number, lastStreamId: number, opaqueData?: Buffer) => {
      this.goawayReceived(code, lastStreamId, opaqueData?.toString('latin1') ?? '');
    });
    session.on('error', (error: Error) => this.sessionError(error));
    session.once('close', () => this.sessionClosed());
  }

  openCall(
    headers: UpstreamRequestHead,
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
  request(
    headers: OutgoingHttpHeaders,
    endStream: boolean,
    signal: AbortSignal,
  ): ClientHttp2Stream {
    let stream: ClientHttp2Stream;
    try {
      stream = this.session.request(headers, { endStream, signal });
    } catch (error) {
      if ((error as { code?: unknown }).code === 'ERR_HTTP2_OUT_OF_STREAMS') {
        this.retire('stream ids exhausted');
      }
      throw error;
    }
    this.streamOpened();
    return stream;
  }

  /** A stream opened by `request` emitted 'error'. */
  streamError(error: Error): void {
    // A stream queued while connecting hears of a refused connection first
    // ("pending stream has been canceled"), with the socket error as cause.
    if (!this.connected && this.session.destroyed) {
      this.noteFailure(error.cause instanceof Error ? error.cause : error);
    }
  }

  close(): void {
    if (!this.session.closed && !this.session.destroyed) this.session.close();
  }

  destroy(error: Error): void {
    if (this.session.destroyed) return;
    this.noteFailure(error);
    this.session.destroy(error);
  }

  /**
   * The backend never processed this stream: GOAWAY said so (its id is above
   * last-stream-id), or it never got an id before GOAWAY.
   */
  neverProcessed(stream: ClientHttp2Stream): boolean {
    const last = this.goawayLastStreamId;
    return last !== undefined && (stream.id === undefined || stream.id > last);
  }

  protected get closing(): boolean {
    return this.session.closed || this.session.destroyed;
  }

  protected sendPing(onAck: (error: Error | null) => void): boolean {
    try {
      return this.session.ping(onAck);
    } catch {
      return false;
    }
  }
}
