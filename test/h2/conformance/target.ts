/**
 * The server under test: one echo app on either HTTP/2 engine, chosen by env
 * H2_TARGET (`switchyard`, the default, or `nodejs`).
 *
 * The app answers every request with `:status 200`, `content-type:
 * application/grpc`, echoes the request body and ends with trailers
 * `grpc-status: 0`. Both engines advertise TARGET_SETTINGS; the small
 * initial window (8 KiB, below the 16 KiB max frame size) lets one DATA frame
 * overrun a stream window (§6.9.1) without racing the server's WINDOW_UPDATEs.
 */
import http2 from 'node:http2';
import net from 'node:net';
import type { Test } from 'tap';
import { H2Connection } from '../../../src/h2/h2-connection.js';
import type { H2Stream } from '../../../src/h2/h2-stream.js';
import type { HeaderFields } from '../../../src/h2/header-fields.js';
import { type OpenOptions, RawPeer } from './raw-peer.js';

export type TargetKind = 'nodejs' | 'switchyard';

export const TARGET_SETTINGS = {
  headerTableSize: 4096,
  maxConcurrentStreams: 100,
  initialWindowSize: 8192,
  maxFrameSize: 16_384,
  maxHeaderListSize: 16_384,
} as const;

export function targetKind(): TargetKind {
  const kind = process.env['H2_TARGET'] ?? 'switchyard';
  if (kind !== 'nodejs' && kind !== 'switchyard') throw new Error(`H2_TARGET=${kind}?`);
  return kind;
}

export const TARGET: TargetKind = targetKind();

export interface Target {
  readonly port: number;
  readonly kind: TargetKind;
}

async function listen(t: Test, server: net.Server, onTeardown: () => void): Promise<number> {
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  t.teardown(
    () =>
      new Promise<void>((resolve) => {
        onTeardown();
        server.close(() => resolve());
      }),
  );
  const address = server.address();
  if (address === null || typeof address === 'string') throw new Error('no address');
  return address.port;
}

async function startNodejs(t: Test): Promise<number> {
  const server = http2.createServer({ settings: { ...TARGET_SETTINGS, enablePush: false } });
  const sessions = new Set<http2.ServerHttp2Session>();
  server.on('session', (session) => {
    sessions.add(session);
    session.on('error', () => undefined);
    session.once('close', () => sessions.delete(session));
  });
  server.on('stream', (stream) => {
    stream.on('error', () => undefined);
    stream.respond(
      { ':status': 200, 'content-type': 'application/grpc' },
      { waitForTrailers: true },
    );
    stream.on('wantTrailers', () => stream.sendTrailers({ 'grpc-status': '0' }));
    stream.on('data', (chunk: Buffer) => stream.write(chunk));
    stream.on('end', () => stream.end());
  });
  return listen(t, server, () => {
    for (const session of sessions) session.destroy();
  });
}

async function startSwitchyard(t: Test): Promise<number> {
  const connections = new Set<H2Connection>();
  const server = net.createServer((socket) => {
    socket.on('error', () => undefined);
    const connection: H2Connection = new H2Connection(
      socket,
      { role: 'server', settings: { ...TARGET_SETTINGS, enablePush: false } },
      {
        onStream(stream, _fields, endStream) {
          echo(stream, endStream);
        },
        onClose() {
          connections.delete(connection);
        },
      },
    );
    connections.add(connection);
  });
  return listen(t, server, () => {
    for (const connection of connections) connection.destroy();
  });
}

const TRAILERS: HeaderFields = ['grpc-status', '0'];

/** The echo app on one switchyard stream (set synchronously, as onStream requires). */
function echo(stream: H2Stream, endStream: boolean): void {
  stream.handler = {
    onHeaders(_fields, end) {
      if (end && !stream.localEnded) stream.end(TRAILERS);
    },
    onData(chunk, end) {
      if (chunk.length > 0 && !stream.write(Buffer.from(chunk))) stream.pause();
      if (end && !stream.localEnded) stream.end(TRAILERS);
    },
    onWritable() {
      stream.resume();
    },
    onClose() {
      // nothing held
    },
  };
  stream.sendHeaders([':status', '200', 'content-type', 'application/grpc'], false);
  if (endStream) stream.end(TRAILERS);
}

/** Starts the echo app on `kind` (default: H2_TARGET) for this test; stopped at teardown. */
export async function startTarget(t: Test, kind: TargetKind = TARGET): Promise<Target> {
  const port = kind === 'nodejs' ? await startNodejs(t) : await startSwitchyard(t);
  return { port, kind };
}

/** A target for this test and a raw peer connected to it (handshake done unless told otherwise). */
export async function connect(t: Test, options?: OpenOptions): Promise<RawPeer> {
  const target = await startTarget(t);
  return RawPeer.open(t, target.port, options);
}
