/**
 * One configured listener: an HTTP/2 server over cleartext (h2c, prior
 * knowledge) or TLS with ALPN h2, handing every stream to `onCall` as a
 * DownstreamCall. It tracks its sessions so that closing can send GOAWAY
 * to each and let in-flight calls finish, and its calls so that those still
 * running when the grace period ends can be cancelled.
 */
import http2, {
  type Http2SecureServer,
  type Http2Server,
  type Http2Session,
  type ServerHttp2Session,
  type ServerHttp2Stream,
} from 'node:http2';
import type { AddressInfo, Socket } from 'node:net';
import { requireByteSize } from '../config/byte-size.js';
import { flowControlWindow } from '../config/flow-control-window.js';
import { DEFAULTS, type ListenerConfig } from '../config/schema.js';
import type { Logger } from '../log/logger.js';
import {
  connectionLimits,
  markLocalReset,
  SessionGuard,
  type ConnectionLimits,
} from './connection-guard.js';
import { bindServer } from './bind-server.js';
import { Http2DownstreamCall } from './http2-downstream-call.js';
import { drainListener, goAwayTwice, type DrainingConnection } from './listener-drain.js';
import type { CallHandler, CancelCall, ProxyListener } from './proxy-listener.js';
import { readTlsMaterial, TlsReloader } from './tls-reloader.js';

export class Listener implements ProxyListener {
  readonly name: string;
  readonly #server: Http2Server | Http2SecureServer;
  readonly #sessions = new Set<Http2Session>();
  /** Every TCP connection, also those that never became an HTTP/2 session. */
  readonly #sockets = new Set<Socket>();
  readonly #logger: Logger;
  readonly #connectionWindow: number;
  readonly #limits: ConnectionLimits;
  /** Handshake deadlines of accepted connections not yet past the HTTP/2 preface, by remote address:port. */
  readonly #handshakes = new Map<string, NodeJS.Timeout>();
  readonly #guards = new WeakMap<Http2Session, SessionGuard>();
  /** Streams in flight and how to cancel each (undefined: just reset it). */
  readonly #streams = new Map<ServerHttp2Stream, CancelCall | undefined>();
  #closing = false;
  #closed: Promise<void> | undefined;
  /** Reloads the certificate when its files change (TLS listeners). */
  #tlsReloader: TlsReloader | undefined;
  /** Called when the last stream in flight closes (set while close() waits for cancelled calls). */
  #onNoStreams: (() => void) | undefined;

  private constructor(config: ListenerConfig, onCall: CallHandler, logger: Logger) {
    this.name = config.name;
    this.#logger = logger;
    const limits = config.limits ?? {};
    this.#connectionWindow = flowControlWindow(
      limits.connection_window ?? DEFAULTS.connectionWindow,
    );
    this.#limits = connectionLimits(config.limits);
    const options = {
      settings: {
        maxConcurrentStreams: limits.max_concurrent_streams ?? DEFAULTS.maxConcurrentStreams,
        maxHeaderListSize: requireByteSize(
          limits.max_header_list_size ?? DEFAULTS.maxHeaderListSize,
        ),
        initialWindowSize: flowControlWindow(limits.stream_window ?? DEFAULTS.streamWindow),
        enablePush: false,
      },
      maxSessionMemory: 64,
    };
    const tlsConfig = config.tls;
    let server: Http2Server | Http2SecureServer;
    if (tlsConfig === undefined) {
      server = http2.createServer(options);
    } else {
      const material = readTlsMaterial(tlsConfig);
      const secure = http2.createSecureServer({
        ...options,
        ...material,
        ALPNProtocols: ['h2'],
        allowHTTP1: false,
        // mTLS: only clients with a certificate signed by client_ca complete the handshake.
        ...(material.ca === undefined ? {} : { requestCert: true, rejectUnauthorized: true }),
      });
      this.#tlsReloader = new TlsReloader(
        tlsConfig,
        material,
        (next) => secure.setSecureContext(next),
        this.#logger,
      );
      server = secure;
    }
    this.#server = server;
    // Past it, node closes new connections as soon as they are accepted.
    server.maxConnections = this.#limits.maxConnections;
    server.on('connection', (socket: Socket) => {
      this.#sockets.add(socket);
      const cancelHandshake = this.#armHandshake(socket);
      socket.once('close', () => {
        this.#sockets.delete(socket);
        cancelHandshake();
      });
    });
    server.on('session', (session: ServerHttp2Session) => this.#track(session));
    // TLS without ALPN h2: close at once instead of node's HTTP/1.0 403 notice.
    server.on('unknownProtocol', (socket: Socket) => socket.destroy());
    server.on('stream', (stream, headers, flags) => {
      const session = stream.session;
      const guard = session === undefined ? undefined : this.#guards.get(session);
      if (guard !== undefined && !guard.onStream(stream)) {
        // The session was cut for abuse in this same read: never start the call.
        markLocalReset(stream);
        stream.on('error', () => undefined); // the reset's own error event
        stream.close(http2.constants.NGHTTP2_REFUSED_STREAM);
        return;
      }
      this.#streams.set(stream, undefined);
      stream.once('close', () => {
        guard?.onStreamClosed();
        this.#streams.delete(stream);
        if (this.#streams.size === 0) this.#onNoStreams?.();
      });
      const cancel = onCall(new Http2DownstreamCall(stream, headers, flags, this.name));
      if (this.#streams.has(stream)) this.#streams.set(stream, cancel);
    });
    server.on('sessionError', (error) => logger.debug({ err: error }, 'client session error'));
  }

  /** Binds the listener; rejects when the address cannot be bound. */
  static async start(
    config: ListenerConfig,
    onCall: CallHandler,
    logger: Logger,
  ): Promise<Listener> {
    const listener = new Listener(config, onCall, logger.child({ listener: config.name }));
    await bindServer(listener.#server, config, listener.#logger, () =>
      listener.#tlsReloader?.close(),
    );
    return listener;
  }

  /** The bound address (the real port when config said 0). */
  get address(): { host: string; port: number } {
    const info = this.#server.address() as AddressInfo;
    return { host: info.address, port: info.port };
  }

  /**
   * Stops accepting and closes every client connection gracefully: a GOAWAY
   * with last-stream-id 2^31-1 first (streams the client already sent still
   * count), then, a round trip later (a PING's answer), the real GOAWAY.
   * In-flight calls run on; after `graceMs` those left are cancelled (each
   * ends with its handler's status, UNAVAILABLE for proxied calls) and, a
   * moment later, whatever is still open is destroyed.
   */
  close(graceMs: number): Promise<void> {
    // A listener a reload retired may be closed again at shutdown: one close, one wait.
    this.#closed ??= this.#close(graceMs);
    return this.#closed;
  }

  async #close(graceMs: number): Promise<void> {
    this.#closing = true;
    this.#tlsReloader?.close();
    // Connections accepted from here on get the same two GOAWAYs (#track).
    const streams = this.#streams;
    await drainListener(
      {
        server: this.#server,
        inFlight: () => streams.size,
        goAwayAll: async () => {
          await Promise.all([...this.#sessions].map((session) => goAwayTwice(drainView(session))));
        },
        cancelAll: () => {
          for (const [stream, cancel] of [...streams]) {
            markLocalReset(stream);
            if (cancel === undefined) stream.close(http2.constants.NGHTTP2_CANCEL);
            else cancel.cancel();
          }
        },
        destroyAll: () => {
          for (const session of this.#sessions) session.destroy();
          // Connections still in a handshake, or that never sent a preface.
          for (const socket of this.#sockets) socket.destroy();
        },
        setOnNoStreams: (callback) => (this.#onNoStreams = callback),
      },
      graceMs,
    );
  }

  /** Calls in flight on this listener. */
  get inFlight(): number {
    return this.#streams.size;
  }

  /** Client HTTP/2 connections open on this listener. */
  get connections(): number {
    return this.#sessions.size;
  }

  /**
   * Closes `socket` unless its HTTP/2 preface (the client's first SETTINGS,
   * after the TLS handshake for TLS) arrives within handshake_timeout.
   * Returns how to disarm it.
   */
  #armHandshake(socket: Socket): () => void {
    const ms = this.#limits.handshakeTimeoutMs;
    if (ms === 0) return () => undefined;
    const key = `${socket.remoteAddress ?? ''}:${String(socket.remotePort)}`;
    const timer = setTimeout(() => {
      this.#handshakes.delete(key);
      this.#logger.debug({ remote: key }, 'client connection closed: no HTTP/2 preface in time');
      socket.destroy();
    }, ms);
    timer.unref();
    this.#handshakes.set(key, timer);
    return () => {
      clearTimeout(timer);
      if (this.#handshakes.get(key) === timer) this.#handshakes.delete(key);
    };
  }

  #track(session: ServerHttp2Session): void {
    this.#sessions.add(session);
    // session.socket is a guarding proxy: the raw socket is found again by its address.
    const socket = session.socket;
    const key = `${socket.remoteAddress ?? ''}:${String(socket.remotePort)}`;
    session.once('remoteSettings', () => {
      clearTimeout(this.#handshakes.get(key));
      this.#handshakes.delete(key);
    });
    this.#guards.set(
      session,
      new SessionGuard(session, this.#limits, {
        onAbuse: (kind) => {
          this.#logger.warn(
            { remote: key, abuse: kind },
            'client connection cut: ENHANCE_YOUR_CALM',
          );
        },
        onIdle: () => {
          this.#logger.debug({ remote: key }, 'idle client connection closed');
          void goAwayTwice(drainView(session));
        },
      }),
    );
    // A connection accepted just before close(): it gets the same treatment.
    if (this.#closing) void goAwayTwice(drainView(session));
    session.once('close', () => this.#sessions.delete(session));
    session.on('error', (error) => this.#logger.debug({ err: error }, 'client session error'));
    session.once('localSettings', () => {
      try {
        session.setLocalWindowSize(this.#connectionWindow);
      } catch {
        // The session may already be closing; the default window then stays.
      }
    });
  }
}

/** A node:http2 session, as the two-phase GOAWAY sees it. */
function drainView(session: Http2Session): DrainingConnection {
  return {
    get closed() {
      return session.closed || session.destroyed;
    },
    goAway: (lastStreamId) => session.goaway(http2.constants.NGHTTP2_NO_ERROR, lastStreamId),
    ping: (onAck) => session.ping(onAck),
    // node:http2's close() sends the GOAWAY with the real last-stream-id.
    closeGracefully: () => session.close(),
  };
}
