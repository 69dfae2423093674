/**
 * One configured listener: an HTTP/2 server over cleartext (h2c, prior
 * knowledge) or TLS with ALPN h2, handing every stream to `onCall` as a
 * DownstreamCall. It tracks its sessions so that closing can send GOAWAY
 * to each and let in-flight calls finish.
 */
import { readFileSync } from 'node:fs';
import http2, {
  type Http2SecureServer,
  type Http2Server,
  type Http2Session,
  type ServerHttp2Session,
} from 'node:http2';
import type { AddressInfo, Socket } from 'node:net';
import { requireByteSize } from '../config/byte-size.js';
import { flowControlWindow } from '../config/flow-control-window.js';
import { parseHostPort } from '../config/host-port.js';
import { DEFAULTS, type ListenerConfig } from '../config/schema.js';
import type { Logger } from '../log/logger.js';
import type { DownstreamCall } from './downstream-call.js';
import { Http2DownstreamCall } from './http2-downstream-call.js';

export type CallHandler = (call: DownstreamCall) => void;

export class Listener {
  readonly name: string;
  readonly #server: Http2Server | Http2SecureServer;
  readonly #sessions = new Set<Http2Session>();
  /** Every TCP connection, also those that never became an HTTP/2 session. */
  readonly #sockets = new Set<Socket>();
  readonly #logger: Logger;
  readonly #connectionWindow: number;

  private constructor(config: ListenerConfig, onCall: CallHandler, logger: Logger) {
    this.name = config.name;
    this.#logger = logger;
    const limits = config.limits ?? {};
    this.#connectionWindow = flowControlWindow(
      limits.connection_window ?? DEFAULTS.connectionWindow,
    );
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
    const server =
      config.tls === undefined
        ? http2.createServer(options)
        : http2.createSecureServer({
            ...options,
            cert: readFileSync(config.tls.cert),
            key: readFileSync(config.tls.key),
            ALPNProtocols: ['h2'],
            allowHTTP1: false,
            minVersion: 'TLSv1.2',
          });
    this.#server = server;
    server.on('connection', (socket: Socket) => {
      this.#sockets.add(socket);
      socket.once('close', () => this.#sockets.delete(socket));
    });
    server.on('session', (session: ServerHttp2Session) => this.#track(session));
    // TLS without ALPN h2: close at once instead of node's HTTP/1.0 403 notice.
    server.on('unknownProtocol', (socket: Socket) => socket.destroy());
    server.on('stream', (stream, headers, flags) => {
      onCall(new Http2DownstreamCall(stream, headers, flags, this.name));
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
    const address = parseHostPort(config.address);
    if (address === undefined)
      throw new Error(`listener ${config.name}: bad address ${config.address}`);
    await new Promise<void>((resolve, reject) => {
      const server = listener.#server;
      server.once('error', reject);
      server.listen(address.port, address.host, () => {
        server.off('error', reject);
        server.on('error', (error) => listener.#logger.error({ err: error }, 'listener error'));
        resolve();
      });
    });
    return listener;
  }

  /** The bound address (the real port when config said 0). */
  get address(): { host: string; port: number } {
    const info = this.#server.address() as AddressInfo;
    return { host: info.address, port: info.port };
  }

  /**
   * Stops accepting, sends GOAWAY on every client connection and waits for
   * in-flight calls; after `graceMs` the remaining connections are destroyed.
   */
  async close(graceMs: number): Promise<void> {
    const closed = new Promise<void>((resolve) => this.#server.close(() => resolve()));
    for (const session of this.#sessions) session.close();
    const timer = setTimeout(() => {
      for (const session of this.#sessions) session.destroy();
      // Connections still in a handshake, or that never sent a preface.
      for (const socket of this.#sockets) socket.destroy();
    }, graceMs);
    await closed;
    clearTimeout(timer);
  }

  #track(session: ServerHttp2Session): void {
    this.#sessions.add(session);
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
