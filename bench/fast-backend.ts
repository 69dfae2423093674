/**
 * The benchmark's backend: a raw node:http2 responder, as cheap as a gRPC
 * server can be. `/bench.Bench/Unary` answers every call with one fixed
 * message and `grpc-status: 0` in trailers; `/bench.Bench/Stream` sends
 * `x-bench-count` messages of `x-bench-size` bytes, honouring backpressure;
 * `/grpc.health.v1.Health/Check` answers SERVING (for the proxies' active
 * health checks).
 * Run: node dist/bench/fast-backend.js PORT  (prints "ready PORT").
 */
import http2, { type ServerHttp2Stream } from 'node:http2';
import type { AddressInfo } from 'node:net';
import { grpcFrame } from './grpc-frame.js';
import { UNARY_REPLY_MESSAGE } from './reply-size.js';

const UNARY_REPLY = grpcFrame(Buffer.from(UNARY_REPLY_MESSAGE));
/** HealthCheckResponse { status: SERVING (1) }. */
const SERVING_REPLY = grpcFrame(Buffer.from([0x08, 0x01]));

function unary(stream: ServerHttp2Stream, reply: Buffer): void {
  stream.resume();
  stream.on('end', () => {
    // Cancelled meanwhile (e.g. the proxy enforced the call's deadline): nothing to answer.
    if (stream.destroyed || stream.closed) return;
    stream.respond(
      { ':status': 200, 'content-type': 'application/grpc' },
      { waitForTrailers: true },
    );
    stream.on('wantTrailers', () => stream.sendTrailers({ 'grpc-status': '0' }));
    stream.end(reply);
  });
}

function serverStream(stream: ServerHttp2Stream, count: number, size: number): void {
  stream.resume();
  const message = grpcFrame(Buffer.alloc(size, 0x61));
  stream.respond({ ':status': 200, 'content-type': 'application/grpc' }, { waitForTrailers: true });
  stream.on('wantTrailers', () => stream.sendTrailers({ 'grpc-status': '0' }));
  let sent = 0;
  const pump = (): void => {
    while (sent < count) {
      sent++;
      if (!stream.write(message)) {
        stream.once('drain', pump);
        return;
      }
    }
    stream.end();
  };
  pump();
}

const port = Number(process.argv[2] ?? '0');
const server = http2.createServer({
  settings: { initialWindowSize: 1 << 20, maxConcurrentStreams: 10_000 },
  maxSessionMemory: 64,
});
server.on('session', (session) => session.setLocalWindowSize(8 << 20));
server.on('stream', (stream, headers) => {
  stream.on('error', () => undefined);
  if (headers[':path'] === '/bench.Bench/Stream') {
    serverStream(
      stream,
      Number(headers['x-bench-count'] ?? '1000'),
      Number(headers['x-bench-size'] ?? '1024'),
    );
  } else if (headers[':path'] === '/grpc.health.v1.Health/Check') {
    unary(stream, SERVING_REPLY);
  } else {
    unary(stream, UNARY_REPLY);
  }
});
server.listen(port, '127.0.0.1', () => {
  process.stdout.write(`ready ${(server.address() as AddressInfo).port}\n`);
});
process.on('SIGTERM', () => process.exit(0));
