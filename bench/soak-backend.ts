/**
 * The soak test's backend, run as a child process so the soak can SIGKILL
 * it: raw node:http2 on 127.0.0.1:PORT (0: any), prints "ready PORT".
 * `/soak.Soak/Unary` answers one message at once; `/soak.Soak/Stream`
 * sends STREAM_MESSAGES messages, one every STREAM_INTERVAL_MS, so a kill
 * usually finds streams in flight.
 * Run: node dist/bench/soak-backend.js PORT
 */
import http2, { type ServerHttp2Stream } from 'node:http2';
import type { AddressInfo } from 'node:net';
import { grpcFrame } from './grpc-frame.js';
import { STREAM_INTERVAL_MS, STREAM_MESSAGES } from './soak-shape.js';

const REPLY = grpcFrame(Buffer.from('soak reply'));
const STREAM_MESSAGE = grpcFrame(Buffer.alloc(1024, 0x73));

function respond(stream: ServerHttp2Stream): void {
  stream.respond({ ':status': 200, 'content-type': 'application/grpc' }, { waitForTrailers: true });
  stream.on('wantTrailers', () => stream.sendTrailers({ 'grpc-status': '0' }));
}

function unary(stream: ServerHttp2Stream): void {
  stream.resume();
  stream.on('end', () => {
    if (stream.closed || stream.destroyed) return;
    respond(stream);
    stream.end(REPLY);
  });
}

function serverStream(stream: ServerHttp2Stream): void {
  stream.resume();
  respond(stream);
  let sent = 0;
  const timer = setInterval(() => {
    if (stream.closed || stream.destroyed) {
      clearInterval(timer);
      return;
    }
    stream.write(STREAM_MESSAGE);
    sent++;
    if (sent === STREAM_MESSAGES) {
      clearInterval(timer);
      stream.end();
    }
  }, STREAM_INTERVAL_MS);
  stream.on('close', () => clearInterval(timer));
}

const server = http2.createServer({ settings: { maxConcurrentStreams: 10_000 } });
server.on('stream', (stream, headers) => {
  stream.on('error', () => undefined);
  if (headers[':path'] === '/soak.Soak/Stream') serverStream(stream);
  else unary(stream);
});
server.listen(Number(process.argv[2] ?? '0'), '127.0.0.1', () => {
  process.stdout.write(`ready ${(server.address() as AddressInfo).port}\n`);
});
process.on('SIGTERM', () => process.exit(0));
