/**
 * A configured listener on the switchyard engine: a `net.Server` (h2c,
 * prior knowledge) or `tls.Server` (ALPN h2) whose every connection becomes
 * an `H2Connection` in the server role, and every stream a
 * `NativeDownstreamCall`. Same contract as the node:http2 `Listener`:
 * handshake deadline, connection cap, idle close, abuse limits (enforced
 * by the engine), and a graceful close with two GOAWAYs before the calls
 * still running at the end of the grace period are cancelled.
 */
import net, { type AddressInfo, type Socket } from 'node:net';
import tls, { TLSSocket } from 'node:tls';
import { requireByteSize } from '../config/byte-size.js';
import { flowControlWindow } from '../config/flow-control-window.js';
import { DEFAULTS, type ListenerConfig } from '../config/schema.js';
import { CANCEL, NO_ERROR } from '../h2/constants.js';
import { H2Connection, type ConnectionOptions } from '../h2/h2-connection.js';
import { bindServer } from '../listener/bind-server.js';
import { connectionLimits, type ConnectionLimits } from '../listener/connection-guard.js';
import { drainListener, goAwayTwice, type DrainingConnection } from '../listener/listener-drain.js';
import type { CallHandler, ProxyListener } from '../listener/proxy-listener.js';
import { readTlsMaterial, TlsReloader } from '../listener/tls-reloader.js';
import type { Logger } from '../log/logger.js';
import { NativeDownstreamCall, type ConnectionOrigin } from './native-downstream-call.js';

export class NativeListener implements ProxyListener {
  readonly name: string;
  readonly #server: net.Server | tls.Server;
  readonly #logger: Logger;
  readonly #limits: ConnectionLimits;
  readonly #options: ConnectionOptions;
  readonly #onCall: CallHandler;
  readonly #connections = new Set<H2Connection>();
  /** Every TCP connection, also those that never became an HTTP/2 connection. */
  readonly #sockets = new Set<Socket>();
  /**
   * Calls in flight: counted, not kept in a set (a set's churn cost garbage
   * per call); a drain finds them through its connections' open streams.
   */
  #inFlight = 0;
  /** Handshake deadlines of connections not yet past the HTTP/2 preface, by remote address:port. */
  readonly #handshakes = new Map<string, NodeJS.Timeout>();
  #closing = false;
  #closed: Promise<void> | undefined;
  #tlsReloader: TlsReloader | undefined;
  #onNoStreams: (() => void) | undefined;

  private constructor(config: ListenerConfig, onCall: CallHandler, logger: Logger) {
    this.name = config.name;
    this.#logger = logger;
    this.#onCall = onCall;
    const limits = config.limits ?? {};
    this.#limits = connectionLimits(config.limits);
    this.#options = {
      role: 'server',
      settings: {
        maxConcurrentStreams: limits.max_concurrent_streams ?? DEFAULTS.maxConcurrentStreams,
        maxHeaderListSize: requireByteSize(
          limits.max_header_list_size ?? DEFAULTS.maxHeaderListSize,
        ),
        initialWindowSize: flowControlWindow(limits.stream_window ?? DEFAULTS.streamWindow),
        enablePush: false,
      },
      connectionWindow: flowControlWindow(limits.connection_window ?? DEFAULTS.connectionWindow),
      limits: {
        maxPingsPerSecond: this.#limits.maxPingsPerSecond,
        maxResetsPerSecond: this.#limits.maxResetsPerSecond,
      },
    };
    const tlsConfig = config.tls;
    let server: net.Server | tls.Server;
    if (tlsConfig === undefined) {
      server = net.createServer((socket) => this.#accept(socket));
    } else {
      const material = readTlsMaterial(tlsConfig);
      const secure = tls.createServer({
        ...material,
        ALPNProtocols: ['h2'],
        // mTLS: only clients with a certificate signed by client_ca complete the handshake.
        ...(material.ca === undefined ? {} : { requestCert: true, rejectUnauthorized: true }),
      });
      secure.on('secureConnection', (socket: TLSSocket) => {
        // TLS without ALPN h2: close at once.
        if (socket.alpnProtocol !== 'h2') socket.destroy();
        else this.#accept(socket);
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
    server.on('tlsClientError', (error) =>
      logger.debug({ err: error }, 'client TLS handshake failed'),
    );
  }

  static async start(
    config: ListenerConfig,
    onCall: CallHandler,
    logger: Logger,
  ): Promise<NativeListener> {
    const listener = new NativeListener(config, onCall, logger.child({ listener: config.name }));
    await bindServer(listener.#server, config, listener.#logger, () =>
      listener.#tlsReloader?.close(),
    );
    return listener;
  }

  get address(): { host: string; port: number } {
    const info = this.#server.address() as AddressInfo;
    return { host: info.address, port: info.port };
  }

  get inFlight(): number {
    return this.#inFlight;
  }

  get connections(): number {
    return this.#connections.size;
  }

  close(graceMs: number): Promise<void> {
    this.#closed ??= this.#close(graceMs);
    return this.#closed;
  }

  async #close(graceMs: number): Promise<void> {
    this.#closing = true;
    this.#tlsReloader?.close();
    // Connections accepted from here on get the same two GOAWAYs (#accept).
    await drainListener(
      {
        server: this.#server,
        inFlight: () => this.#inFlight,
        goAwayAll: async () => {
          await Promise.all([...this.#connections].map((c) => goAwayTwice(drainView(c))));
        },
        cancelAll: () => {
          for (const connection of [...this.#connections]) {
            for (const stream of connection.openStreams()) {
              const cancel =
                stream.handler instanceof NativeDownstreamCall
                  ? stream.handler.cancelHook
                  : undefined;
              if (cancel === undefined) stream.reset(CANCEL);
              else cancel.cancel();
            }
          }
        },
        destroyAll: () => {
          for (const connection of this.#connections) connection.destroy();
          for (const socket of this.#sockets) socket.destroy();
        },
        setOnNoStreams: (callback) => (this.#onNoStreams = callback),
      },
      graceMs,
    );
  }

  /** Closes `socket` unless the client's SETTINGS arrive within handshake_timeout. */
  #armHandshake(socket: Socket): () => void {
    const ms = this.#limits.handshakeTimeoutMs;
    if (ms === 0) return () => undefined;
    // Keyed by address: for TLS the connection's socket is another object.
    const key = `${socket.remoteAddress ?? ''}:${String(socket.remotePort)}`;
    const timer = setTimeout(() => {
      this.#handshakes.delete(key);
      this.#logger.debug({ remote: key }, 'client connection closed: no HTTP/2 preface in time');
      socket.destroy();
    }, ms);
    timer.unref();
    this.#handshakes.set(key, timer);
    return () => this.#handshakeDone(key, timer);
  }

  #handshakeDone(key: string, timer = this.#handshakes.get(key)): void {
    clearTimeout(timer);
    if (this.#handshakes.get(key) === timer) this.#handshakes.delete(key);
  }

  #accept(socket: Socket): void {
    socket.setNoDelay(true);
    let idleSince = performance.now();
    let idleTimer: NodeJS.Timeout | undefined;
    const origin: ConnectionOrigin = {
      listener: this.name,
      remoteAddress: socket.remoteAddress ?? '',
      clientSubject: socket instanceof TLSSocket ? certificateSubject(socket) : undefined,
      streamClosed: () => {
        this.#inFlight--;
        if (connection.activeStreams <= 1) idleSince = performance.now();
        if (this.#inFlight === 0) queueMicrotask(() => this.#onNoStreams?.());
      },
    };
    const remote = `${origin.remoteAddress}:${String(socket.remotePort)}`;
    const connection: H2Connection = new H2Connection(socket, this.#options, {
      onStream: (stream, fields, endStream) => {
        this.#inFlight++;
        const call = new NativeDownstreamCall(stream, fields, endStream, origin);
        call.cancelHook = this.#onCall(call);
      },
      onRemoteSettings: (_settings, first) => {
        if (first) this.#handshakeDone(remote);
      },
      onAbuse: (kind) => {
        this.#logger.warn({ remote, abuse: kind }, 'client connection cut: ENHANCE_YOUR_CALM');
      },
      onError: (error) => this.#logger.debug({ err: error, remote }, 'client connection error'),
      onClose: () => {
        clearTimeout(idleTimer);
        this.#connections.delete(connection);
      },
    });
    this.#connections.add(connection);
    if (this.#closing) void goAwayTwice(drainView(connection));
    const idleMs = this.#limits.idleTimeoutMs;
    if (idleMs > 0) {
      // Lazy: one timer per connection, re-armed for the rest of the idle time.
      const check = (): void => {
        const idleFor = performance.now() - idleSince;
        if (connection.activeStreams === 0 && idleFor >= idleMs - 1) {
          this.#logger.debug({ remote }, 'idle client connection closed');
          void goAwayTwice(drainView(connection));
          return;
        }
        idleTimer = setTimeout(check, connection.activeStreams === 0 ? idleMs - idleFor : idleMs);
        idleTimer.unref();
      };
      idleTimer = setTimeout(check, idleMs);
      idleTimer.unref();
    }
  }
}

function certificateSubject(socket: TLSSocket): string | undefined {
  // undefined without a client certificate (a listener without client_ca asks for none).
  return socket.getPeerX509Certificate()?.subject.split('\n').join(', ');
}

/** An engine connection, as the two-phase GOAWAY sees it. */
function drainView(connection: H2Connection): DrainingConnection {
  return {
    get closed() {
      return connection.closed;
    },
    goAway: (lastStreamId) => connection.goaway(NO_ERROR, lastStreamId),
    ping: (onAck) => connection.ping(onAck),
    closeGracefully: () => {
      // Without a last-stream-id: the highest stream the client opened.
      connection.goaway(NO_ERROR);
      connection.close();
    },
  };
}
