/**
 * `connectH2()`: an H2Connection in the client role over a new socket, h2c
 * with prior knowledge (net.connect) or TLS with ALPN `h2` (tls.connect; the
 * connection fails if the server selects anything else).
 *
 * The preface and our SETTINGS are queued at once, and requests may be made
 * before the socket connects: the socket buffers writes until then.
 */
import * as net from 'node:net';
import * as tls from 'node:tls';
import { H2Connection, type ConnectionEvents, type ConnectionOptions } from './h2-connection.js';

export type ClientOptions = Omit<ConnectionOptions, 'role'> & {
  /** Ignored: connectH2 always makes the client role. */
  role?: 'client' | 'server';
  /** TLS options; when present the connection uses TLS with ALPN h2. */
  tls?: tls.ConnectionOptions;
};

export function connectH2(
  host: string,
  port: number,
  options: ClientOptions,
  events: ConnectionEvents,
): H2Connection {
  const { tls: tlsOptions, ...rest } = options;
  const connectionOptions: ConnectionOptions = { ...rest, role: 'client' };
  if (tlsOptions === undefined) {
    const socket = net.connect({ host, port });
    return new H2Connection(socket, connectionOptions, events);
  }
  const socket = tls.connect({
    ...(net.isIP(host) === 0 ? { servername: host } : {}),
    ...tlsOptions,
    host,
    port,
    ALPNProtocols: ['h2'],
  });
  const connection = new H2Connection(socket, connectionOptions, events);
  socket.once('secureConnect', () => {
    if (socket.alpnProtocol !== 'h2') {
      const selected = socket.alpnProtocol === false ? 'none' : String(socket.alpnProtocol);
      connection.destroy(new Error(`server did not select h2 via ALPN (selected: ${selected})`));
    }
  });
  return connection;
}
