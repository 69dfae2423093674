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

// TODO(h2-core): wire the switchyard engine once src/h2/h2-connection.ts is
// merged from branch h2-core (tsc typechecks every import, so the engine
// cannot be referenced before it exists). Until then run H2_TARGET=nodejs.
function startSwitchyard(): Promise<number> {
  return Promise.reject(new Error('switchyard target not wired yet (TODO(h2-core) in target.ts)'));
}

/** Starts the echo app on `kind` (default: H2_TARGET) for this test; stopped at teardown. */
export async function startTarget(t: Test, kind: TargetKind = TARGET): Promise<Target> {
  const port = kind === 'nodejs' ? await startNodejs(t) : await startSwitchyard();
  return { port, kind };
}

/** A target for this test and a raw peer connected to it (handshake done unless told otherwise). */
export async function connect(t: Test, options?: OpenOptions): Promise<RawPeer> {
  const target = await startTarget(t);
  return RawPeer.open(t, target.port, options);
}
