/**
 * The benchmark's baseline: the barest correct node:http2 gRPC pass-through
 * (one upstream session, no routing, no balancing, no deadlines, no logs).
 * Switchyard's cost is measured against this, in the same run.
 * Run: node dist/bench/passthrough.js LISTEN_PORT UPSTREAM_PORT  (prints "ready PORT").
 */
import http2, { type IncomingHttpHeaders, type OutgoingHttpHeaders } from 'node:http2';
import type { AddressInfo } from 'node:net';

const listenPort = Number(process.argv[2] ?? '0');
const upstreamPort = Number(process.argv[3] ?? '0');
let upstream: http2.ClientHttp2Session | undefined;

/** The one upstream session, made again if the last one closed. */
function upstreamSession(): http2.ClientHttp2Session {
  if (upstream !== undefined && !upstream.closed && !upstream.destroyed) return upstream;
  const session = http2.connect(`http://127.0.0.1:${upstreamPort}`, {
    settings: { initialWindowSize: 1 << 20 },
    maxSessionMemory: 64,
  });
  session.on('connect', () => session.setLocalWindowSize(8 << 20));
  session.on('error', () => undefined);
  upstream = session;
  return session;
}

function copy(headers: IncomingHttpHeaders, skipPseudo: boolean): OutgoingHttpHeaders {
  const out: OutgoingHttpHeaders = {};
  for (const name in headers) {
    if ((skipPseudo && name.startsWith(':')) || name === 'te') continue;
    out[name] = headers[name];
  }
  return out;
}

const server = http2.createServer({
  settings: { initialWindowSize: 1 << 20, maxConcurrentStreams: 10_000 },
  maxSessionMemory: 64,
});
server.on('session', (session) => session.setLocalWindowSize(8 << 20));
server.on('stream', (down, headers) => {
  down.on('error', () => undefined);
  let up: http2.ClientHttp2Stream;
  try {
    up = upstreamSession().request({
      ...copy(headers, true),
      ':method': 'POST',
      ':path': headers[':path'],
      ':authority': headers[':authority'],
      te: 'trailers',
    });
  } catch {
    down.close(http2.constants.NGHTTP2_REFUSED_STREAM);
    return;
  }
  up.on('error', () => undefined);
  down.pipe(up);
  up.on('response', (responseHeaders, flags) => {
    if (down.destroyed || down.closed) return;
    if ((flags & http2.constants.NGHTTP2_FLAG_END_STREAM) !== 0) {
      down.respond(copy(responseHeaders, false), { endStream: true });
      return;
    }
    down.respond(copy(responseHeaders, false), { waitForTrailers: true });
    let trailers: OutgoingHttpHeaders = {};
    up.on('trailers', (t: IncomingHttpHeaders) => (trailers = copy(t, false)));
    down.on('wantTrailers', () => down.sendTrailers(trailers));
    up.pipe(down);
  });
  down.on('close', () => {
    if (!up.closed) up.close(http2.constants.NGHTTP2_CANCEL);
  });
});
server.listen(listenPort, '127.0.0.1', () => {
  process.stdout.write(`ready ${(server.address() as AddressInfo).port}\n`);
});
process.on('SIGTERM', () => process.exit(0));
