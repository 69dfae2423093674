/**
 * Helpers for the session-pool tests: a node:http2 backend that records what
 * every connection saw (streams, peak concurrency, PINGs, GOAWAY), can stop
 * and restart on the same port; a TCP relay that can stop passing bytes (a
 * black-holed path); and a way to drive an `UpstreamCall` straight on a
 * `SessionPool`, without the proxy's transparent retries in the way.
 */
import { once } from 'node:events';
import http2, {
  type Http2Server,
  type IncomingHttpHeaders,
  type ServerHttp2Session,
  type ServerHttp2Stream,
  type Settings,
} from 'node:http2';
import net, { type AddressInfo } from 'node:net';
import { ProxyError } from '../../src/errors/proxy-error.js';
import type { HealthFlags } from '../../src/health/health-flags.js';
import { silentLogger } from '../../src/log/logger.js';
import type { UpstreamCall, UpstreamHandler } from '../../src/upstream/upstream-call.js';
import { SessionPool, type SessionPoolOptions } from '../../src/upstream/session-pool.js';

import type { TestContext } from './context.js';
import { testEngine } from './proxy.js';
import { startTcpServer } from './tcp-server.js';
import { grpcMessage } from './raw-backend.js';

export const PATH = '/switchyard.test.Echo/Unary';

// ── backend ───────────────────────────────────────────────────────────────

export interface BackendSession {
  readonly session: ServerHttp2Session;
  readonly streams: ServerHttp2Stream[];
  /** Most streams open at once. */
  peak: number;
  open: number;
  pings: number;
  /** Error code of the GOAWAY the client sent, if any. */
  goawayCode: number | undefined;
  readonly closed: Promise<void>;
}

export type BackendHandler = (stream: ServerHttp2Stream, session: BackendSession) => void;

export interface H2Backend {
  readonly address: string;
  readonly port: number;
  /** Every connection ever accepted, in order. */
  readonly sessions: BackendSession[];
  /** Resolves with the next connection accepted (after its SETTINGS were acknowledged). */
  nextSession(): Promise<BackendSession>;
  /** Resolves when `n` streams in all have arrived. */
  streamsSeen(n: number): Promise<void>;
  /**
   * Stops listening and closes every TCP connection under HTTP/2, as a killed
   * process would: no RST_STREAM, no GOAWAY. (`ServerHttp2Session.destroy()`
   * is politer: it resets each open stream with NO_ERROR, then GOAWAYs.)
   */
  stop(): Promise<void>;
  /** Listens again on the same port. */
  restart(): Promise<void>;
}

export interface H2BackendOptions {
  readonly settings?: Settings;
  readonly handler?: BackendHandler;
}

export async function startH2Backend(
  t: TestContext,
  options: H2BackendOptions = {},
): Promise<H2Backend> {
  const handler = options.handler ?? ((stream) => replyOk(stream));
  const sessions: BackendSession[] = [];
  let sessionWaiters: ((s: BackendSession) => void)[] = [];
  let streamCount = 0;
  let streamWaiters: { n: number; resolve: () => void }[] = [];
  let server: Http2Server | undefined;
  let port = 0;
  const sockets = new Set<net.Socket>();

  const listen = async (): Promise<void> => {
    const created = http2.createServer(
      options.settings === undefined ? {} : { settings: options.settings },
    );
    created.on('connection', (socket: net.Socket) => {
      sockets.add(socket);
      socket.once('close', () => sockets.delete(socket));
    });
    created.on('session', (session) => {
      session.on('error', () => undefined);
      const record: BackendSession = {
        session,
        streams: [],
        peak: 0,
        open: 0,
        pings: 0,
        goawayCode: undefined,
        closed: once(session, 'close').then(() => undefined),
      };
      sessions.push(record);
      session.on('ping', () => record.pings++);
      session.on('goaway', (code: number) => {
        record.goawayCode ??= code;
      });
      // The client processed our SETTINGS (it acknowledged them): it is ready.
      session.once('localSettings', () => {
        const wake = sessionWaiters;
        sessionWaiters = [];
        for (const resolve of wake) resolve(record);
      });
      session.on('stream', (stream) => {
        stream.on('error', () => undefined);
        record.streams.push(stream);
        record.open++;
        record.peak = Math.max(record.peak, record.open);
        stream.once('close', () => record.open--);
        streamCount++;
        const ready = streamWaiters.filter((w) => w.n <= streamCount);
        streamWaiters = streamWaiters.filter((w) => w.n > streamCount);
        for (const w of ready) w.resolve();
        handler(stream, record);
      });
    });
    await new Promise<void>((resolve) => created.listen(port, '127.0.0.1', resolve));
    port = (created.address() as AddressInfo).port;
    server = created;
  };

  const stop = async (): Promise<void> => {
    const current = server;
    server = undefined;
    if (current === undefined) return;
    const closed = new Promise<void>((resolve) => current.close(() => resolve()));
    for (const socket of sockets) socket.destroy();
    await closed;
  };

  await listen();
  t.teardown(stop);
  return {
    address: `127.0.0.1:${port}`,
    port,
    sessions,
    nextSession: () => new Promise((resolve) => sessionWaiters.push(resolve)),
    streamsSeen: (n) =>
      n <= streamCount
        ? Promise.resolve()
        : new Promise((resolve) => streamWaiters.push({ n, resolve })),
    stop,
    restart: listen,
  };
}

/** Replies OK with one message once the request ended, `delayMs` later. */
export function replyOk(stream: ServerHttp2Stream, delayMs = 0): void {
  stream.resume();
  const reply = (): void => {
    if (stream.closed || stream.destroyed) return;
    stream.respond(
      { ':status': 200, 'content-type': 'application/grpc' },
      { waitForTrailers: true },
    );
    stream.once('wantTrailers', () => stream.sendTrailers({ 'grpc-status': '0' }));
    stream.end(grpcMessage(Buffer.from('ok')));
  };
  const whenEnded = (): void => {
    if (delayMs === 0) {
      reply();
      return;
    }
    const timer = setTimeout(reply, delayMs);
    stream.once('close', () => clearTimeout(timer));
  };
  if (stream.readableEnded) whenEnded();
  else stream.once('end', whenEnded);
}

// ── relay ─────────────────────────────────────────────────────────────────

export interface Relay {
  readonly address: string;
  /** From now on, bytes from the backend are dropped (the client's still pass). */
  blackHole(): void;
}

/** A TCP relay to `target` (host:port). */
export async function startRelay(t: TestContext, target: string): Promise<Relay> {
  const [host = '127.0.0.1', portText = '0'] = target.split(':');
  let holed = false;
  const address = await startTcpServer(t, (down, track) => {
    const up = net.connect(Number(portText), host);
    track(up);
    down.on('data', (chunk: Buffer) => up.write(chunk));
    up.on('data', (chunk: Buffer) => {
      if (!holed) down.write(chunk);
    });
    const end = (): void => {
      down.destroy();
      up.destroy();
    };
    for (const s of [down, up]) {
      s.on('error', end);
      s.on('close', end);
    }
  });
  return {
    address,
    blackHole: () => {
      holed = true;
    },
  };
}

// ── pool and calls ────────────────────────────────────────────────────────

export function poolOptions(overrides: Partial<SessionPoolOptions> = {}): SessionPoolOptions {
  return {
    connectTimeoutMs: 2_000,
    initialWindowSize: 1 << 20,
    connectionWindowSize: 8 << 20,
    logger: silentLogger(),
    // The engine the suite runs on (SWITCHYARD_ENGINE), so these cases
    // cover NativeUpstreamSession as well as UpstreamSession.
    engine: testEngine(),
    ...overrides,
  };
}

export function startPool(
  t: TestContext,
  address: string,
  overrides: Partial<SessionPoolOptions> = {},
  health?: HealthFlags,
): SessionPool {
  const pool = new SessionPool(address, poolOptions(overrides), health);
  t.teardown(() => pool.close());
  return pool;
}

export interface CallOutcome {
  readonly ok: boolean;
  readonly error: ProxyError | undefined;
  readonly headers: IncomingHttpHeaders | undefined;
}

export interface PoolCall {
  /** Undefined when the call could not even be opened (`outcome` has why). */
  readonly call: UpstreamCall | undefined;
  readonly outcome: Promise<CallOutcome>;
}

/** One gRPC-shaped call (empty body) on `pool`, as ProxyCall would make it. */
export function poolCall(pool: SessionPool): PoolCall {
  let resolve: (outcome: CallOutcome) => void = () => undefined;
  const outcome = new Promise<CallOutcome>((r) => (resolve = r));
  let headers: IncomingHttpHeaders | undefined;
  const handler: UpstreamHandler = {
    onResponse: (h) => (headers = h),
    onResponseData: () => undefined,
    onTrailers: () => undefined,
    onResponseEnd: () => resolve({ ok: true, error: undefined, headers }),
    onRequestDrain: () => undefined,
    onUpstreamError: (error) => resolve({ ok: false, error, headers }),
  };
  try {
    const call = pool.acquire().openCall(
      {
        ':method': 'POST',
        ':scheme': 'http',
        ':authority': pool.authority,
        ':path': PATH,
        'content-type': 'application/grpc',
        te: 'trailers',
      },
      true,
      handler,
    );
    return { call, outcome };
  } catch (error) {
    if (!(error instanceof ProxyError)) throw error;
    return { call: undefined, outcome: Promise.resolve({ ok: false, error, headers }) };
  }
}

/** "ok" or the error code, for compact assertions over many calls. */
export function codeOf(outcome: CallOutcome): string {
  return outcome.ok ? 'ok' : (outcome.error?.code ?? 'unknown');
}

/**
 * Polls `predicate` every few ms, for state with no event of its own (a
 * stream is counted out on 'close', a tick after the response ended).
 * Rejects after `maxMs`.
 */
export async function until(predicate: () => boolean, what: string, maxMs = 2_000): Promise<void> {
  const deadline = performance.now() + maxMs;
  while (!predicate()) {
    if (performance.now() > deadline) throw new Error(`timed out waiting until ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 2));
  }
}

/** Every session of `pool` has no stream open. */
export function drained(pool: SessionPool): () => boolean {
  return () => pool.sessions.every((s) => s.activeStreams === 0);
}

/** `promise`, or a rejection naming `what` after `ms` (so a missing event fails, not hangs). */
export async function within<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`no ${what} within ${ms} ms`)), ms);
  });
  try {
    return await Promise.race([promise, timeout]);
  } finally {
    clearTimeout(timer);
  }
}
