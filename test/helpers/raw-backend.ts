/**
 * A backend written on raw node:http2, for tests that need what grpc-js
 * hides: the exact request headers the proxy sent (grpc-timeout), how each
 * stream ended (RST_STREAM code), and replies that no real gRPC server makes.
 */
import http2, {
  type IncomingHttpHeaders,
  type Http2Server,
  type ServerHttp2Session,
  type ServerHttp2Stream,
} from 'node:http2';
import type { AddressInfo } from 'node:net';
import type { TestContext } from './context.js';

export interface RawStream {
  readonly stream: ServerHttp2Stream;
  readonly headers: IncomingHttpHeaders;
  /** Resolves with the stream's RST code when it closes (0 = clean). */
  readonly closed: Promise<number>;
}

export type RawHandler = (call: RawStream) => void;

export interface RawBackend {
  readonly address: string;
  readonly server: Http2Server;
  /** Every stream received, in order. */
  readonly streams: RawStream[];
  /** Resolves with the next stream to arrive. */
  nextStream(): Promise<RawStream>;
  /** Destroys every client connection at once (a backend crash, as seen on the wire). */
  crash(): void;
}

/** A length-prefixed gRPC message. */
export function grpcMessage(payload: Buffer): Buffer {
  const frame = Buffer.alloc(5 + payload.length);
  frame.writeUInt32BE(payload.length, 1);
  payload.copy(frame, 5);
  return frame;
}

export async function startRawBackend(t: TestContext, handler: RawHandler): Promise<RawBackend> {
  const server = http2.createServer();
  const sessions = new Set<ServerHttp2Session>();
  const streams: RawStream[] = [];
  let waiting: ((call: RawStream) => void)[] = [];
  server.on('session', (session) => {
    sessions.add(session);
    session.on('close', () => sessions.delete(session));
    session.on('error', () => undefined);
  });
  server.on('stream', (stream, headers) => {
    stream.on('error', () => undefined);
    const closed = new Promise<number>((resolve) => {
      stream.on('close', () => resolve(stream.rstCode));
    });
    const call = { stream, headers, closed };
    streams.push(call);
    const wake = waiting;
    waiting = [];
    for (const resolve of wake) resolve(call);
    handler(call);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  t.teardown(
    () =>
      new Promise<void>((resolve) => {
        for (const session of sessions) session.destroy();
        server.close(() => resolve());
      }),
  );
  return {
    address: `127.0.0.1:${port}`,
    server,
    streams,
    nextStream: () => new Promise((resolve) => waiting.push(resolve)),
    crash: () => {
      for (const session of sessions) session.destroy();
    },
  };
}

/** Replies OK with one message, `delayMs` after the request ends (unless the stream closes first). */
export function replyOk(call: RawStream, delayMs = 0): void {
  const { stream } = call;
  stream.resume();
  stream.on('end', () => {
    const timer = setTimeout(() => {
      if (stream.closed || stream.destroyed) return;
      stream.respond(
        { ':status': 200, 'content-type': 'application/grpc' },
        { waitForTrailers: true },
      );
      stream.on('wantTrailers', () => stream.sendTrailers({ 'grpc-status': '0' }));
      stream.end(grpcMessage(Buffer.from('ok')));
    }, delayMs);
    stream.on('close', () => clearTimeout(timer));
  });
}
