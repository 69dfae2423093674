/**
 * One HTTP/2 connection to an endpoint, as the session pool and the data
 * path see it, whatever engine carries it: `UpstreamSession` (node:http2)
 * or `NativeUpstreamSession` (src/h2). The pool decides which session takes
 * a call from these counters; the session opens the call itself, so the
 * forward stage never touches an engine's stream type.
 */
import type { UpstreamCall, UpstreamHandler, UpstreamRequestHead } from './upstream-call.js';

export interface PooledSession {
  readonly authority: string;
  /** When the connection attempt started, on the pool's clock. */
  readonly startedAt: number;
  /** The backend's SETTINGS arrived: its stream limit is known. */
  readonly ready: boolean;
  /** New streams may be opened on it. */
  readonly usable: boolean;
  /** Streams open on it now. */
  readonly activeStreams: number;
  /** Streams it should carry at once: the backend's limit, or the provisional one until known. */
  readonly streamLimit: number;
  /** The backend's SETTINGS_MAX_CONCURRENT_STREAMS, once known. */
  readonly remoteStreamLimit: number | undefined;
  /** Streams ever opened on it. */
  readonly streamsOpened: number;
  /** RST_STREAMs the proxy sent on it. */
  readonly resetsSent: number;
  /** Why the session was retired, if it was. */
  readonly retiredBecause: string | undefined;
  /** last-stream-id of the GOAWAY received, if any. */
  readonly goawayLastStreamId: number | undefined;
  /** The session is gone (closed or destroyed). */
  readonly gone: boolean;
  /**
   * Opens one call on this session (counted until its stream closes).
   * `onConnected`, given for a session still connecting, is called once:
   * when the backend's SETTINGS arrive or the stream closes first. Throws a
   * ProxyError when the stream cannot even be opened.
   */
  openCall(
    headers: UpstreamRequestHead,
    endStream: boolean,
    handler: UpstreamHandler,
    onConnected?: () => void,
  ): UpstreamCall;
  /** Calls `waiter` once the backend's SETTINGS arrive; returns how to stop waiting. */
  whenReady(waiter: () => void): () => void;
  /** No new streams; closes gracefully once its streams are done. */
  retire(reason: string): void;
  /** Gracefully closes: in-flight streams finish, no new ones. */
  close(): void;
  /** Ends the session at once; its streams fail with `error` as the reason. */
  destroy(error: Error): void;
  /** Resolves once the session is gone. */
  whenGone(): Promise<void>;
}

export interface KeepaliveOptions {
  /** A PING every this often while the session carries streams. */
  readonly intervalMs: number;
  /** A PING not acknowledged within this destroys the session. */
  readonly timeoutMs: number;
}

/** How the pool opens one particular session. */
export interface SessionPlan {
  /** This attempt's connect timeout (the back-off may make it longer than the minimum). */
  readonly connectTimeoutMs: number;
  /** When the attempt started, on the pool's clock. */
  readonly startedAt: number;
  /** Streams assumed to fit until the backend's SETTINGS say how many do. */
  readonly provisionalStreamLimit: number;
  /**
   * Streams the engine may send before the backend's SETTINGS arrive.
   * Streams beyond the backend's real limit sent before then are refused
   * (REFUSED_STREAM); the engine holds the rest until SETTINGS.
   */
  readonly peerMaxConcurrentStreams: number;
  /** Read at each PING, so the pool can slow keepalive down (too_many_pings). */
  readonly keepalive: () => KeepaliveOptions | undefined;
}

/** What a session tells its pool. Each is called synchronously, before streams hear of it. */
export interface SessionEvents {
  /** The backend's first SETTINGS arrived: the connection works. */
  onReady(session: PooledSession): void;
  /** The session ended before it was ready (refused, timed out, closed early). Once. */
  onConnectFailure(session: PooledSession, error: Error): void;
  /** The session stopped taking new streams (GOAWAY, retired, failed). */
  onUnusable(session: PooledSession): void;
  /** The backend sent GOAWAY ENHANCE_YOUR_CALM "too_many_pings" (gRFC A8). */
  onTooManyPings(session: PooledSession): void;
  /** The session is gone. Once, last. */
  onClose(session: PooledSession): void;
}

export const NO_SESSION_EVENTS: SessionEvents = {
  onReady: () => undefined,
  onConnectFailure: () => undefined,
  onUnusable: () => undefined,
  onTooManyPings: () => undefined,
  onClose: () => undefined,
};
