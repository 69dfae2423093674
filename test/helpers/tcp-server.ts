/**
 * A raw TCP server on 127.0.0.1:0 for tests that play a backend below
 * HTTP/2 (silent, garbage, hand-written frames, a relay). Every socket it
 * accepts, and every one the handler hands to `track`, is destroyed at
 * teardown, so the server closes however the test ended. Socket errors are
 * ignored: the test looks at what the proxy does, not at the socket.
 */
import net from 'node:net';
import type { TestContext } from './context.js';

export type TcpHandler = (socket: net.Socket, track: (other: net.Socket) => void) => void;

/** Starts the server; resolves with its `127.0.0.1:PORT`. */
export async function startTcpServer(t: TestContext, onConnection: TcpHandler): Promise<string> {
  const sockets = new Set<net.Socket>();
  const track = (socket: net.Socket): void => {
    sockets.add(socket);
    socket.on('error', () => undefined);
    socket.once('close', () => sockets.delete(socket));
  };
  const server = net.createServer((socket) => {
    track(socket);
    onConnection(socket, track);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  t.teardown(
    () =>
      new Promise<void>((resolve) => {
        for (const socket of sockets) socket.destroy();
        server.close(() => resolve());
      }),
  );
  const address = server.address();
  if (address === null || typeof address === 'string') throw new Error('no TCP address');
  return `127.0.0.1:${address.port}`;
}
