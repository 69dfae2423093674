/**
 * The graceful close every listener does, whichever HTTP/2 engine carries
 * its connections: two GOAWAYs per connection (gRFC A9), calls in flight run
 * on for the grace period, those left are cancelled, and a moment later
 * whatever is still open is destroyed. Each engine's listener gives a view of
 * its connections and streams; the order and the timers live here, once.
 */
import type { Server } from 'node:net';

/** Last-stream-id of the first GOAWAY of a graceful close: "any stream may still arrive". */
const MAX_STREAM_ID = 2 ** 31 - 1;
/** Longest wait for the PING answer between the two GOAWAYs. */
const GOAWAY_PING_TIMEOUT_MS = 1_000;
/** After cancelling the calls left at the end of the grace period, how long their replies may take. */
const CANCEL_GRACE_MS = 1_000;

/** One client connection, as the two-phase GOAWAY sees it. */
export interface DrainingConnection {
  readonly closed: boolean;
  /** Sends GOAWAY(NO_ERROR) with this last-stream-id. */
  goAway(lastStreamId: number): void;
  /** Sends a PING; `onAck` runs on its answer. False when it could not be sent. */
  ping(onAck: () => void): boolean;
  /** Sends the real GOAWAY (the highest stream the client opened); closes once the streams end. */
  closeGracefully(): void;
}

/**
 * The two-phase GOAWAY of a graceful close (gRFC A9): first "any stream may
 * still arrive", then, a round trip later (the PING's answer, or at most
 * GOAWAY_PING_TIMEOUT_MS), the real last-stream-id. Streams the client sent
 * before it saw the first GOAWAY are still served. Resolves when the second
 * GOAWAY has been sent.
 */
export function goAwayTwice(connection: DrainingConnection): Promise<void> {
  if (connection.closed) return Promise.resolve();
  return new Promise<void>((resolve) => {
    let second = false;
    const closeNow = (): void => {
      if (second) return;
      second = true;
      clearTimeout(timer);
      if (!connection.closed) connection.closeGracefully();
      resolve();
    };
    const timer = setTimeout(closeNow, GOAWAY_PING_TIMEOUT_MS);
    try {
      connection.goAway(MAX_STREAM_ID);
      if (!connection.ping(closeNow)) closeNow();
    } catch {
      // The connection is going away already: no second phase to wait for.
      closeNow();
    }
  });
}

/** A listener, as its graceful close sees it. */
export interface DrainableListener {
  readonly server: Server;
  /** Calls in flight now. */
  inFlight(): number;
  /** Both GOAWAYs on every open connection; resolves when every second one is out. */
  goAwayAll(): Promise<void>;
  /**
   * Ends every call left at the end of the grace period: through its
   * `CancelCall` when it has one (its handler replies), else its stream is
   * reset with CANCEL.
   */
  cancelAll(): void;
  /** Destroys every connection, and every socket still in a handshake. */
  destroyAll(): void;
  /** Sets what runs when the last stream closes (undefined: nothing waits for it). */
  setOnNoStreams(callback: (() => void) | undefined): void;
}

/**
 * Closes `listener` gracefully (the caller has already stopped new
 * connections from being treated as open ones): both GOAWAYs to every
 * connection; calls in flight run on; after `graceMs` those left are
 * cancelled (each ends with its handler's status, UNAVAILABLE for proxied
 * calls) and, CANCEL_GRACE_MS later or once the last one ends, whatever is
 * still open is destroyed. Resolves when the server has stopped listening.
 */
export async function drainListener(listener: DrainableListener, graceMs: number): Promise<void> {
  const goaways = listener.goAwayAll();
  let destroyTimer: NodeJS.Timeout | undefined;
  const destroyAll = (): void => {
    clearTimeout(destroyTimer);
    listener.setOnNoStreams(undefined);
    listener.destroyAll();
  };
  const timer = setTimeout(() => {
    if (listener.inFlight() === 0) {
      destroyAll();
      return;
    }
    listener.setOnNoStreams(destroyAll);
    destroyTimer = setTimeout(destroyAll, CANCEL_GRACE_MS);
    listener.cancelAll();
  }, graceMs);
  // Stop listening only once the GOAWAYs are out: from Node 24 on,
  // server.close() also sends every node:http2 session a GOAWAY of its own,
  // and one with the real last-stream-id before ours (2^31-1) would make the
  // client treat ours as a protocol error.
  await goaways;
  await new Promise<void>((resolve) => listener.server.close(() => resolve()));
  clearTimeout(timer);
  clearTimeout(destroyTimer);
  listener.setOnNoStreams(undefined);
}
