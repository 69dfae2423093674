/**
 * The benchmark's default backend: the same answers as fast-backend.ts
 * (`/bench.Bench/Unary`, `/bench.Bench/Stream`, `/grpc.health.v1.Health/Check`)
 * served by Switchyard's own HTTP/2 engine in the server role.
 *
 * Why: the backends share CPU 1 with h2load. A node:http2 backend costs about
 * as much per call as the proxy being measured, so it, not the proxy, set the
 * ceiling and the proxies ran below full load (where a proxy batches less and
 * pays more per call). This backend costs a fraction of that. It is the same
 * for every target, HAProxy included, so it favours none; `--backend nodejs`
 * runs the node:http2 one for comparison with older numbers.
 * Run: node dist/bench/engine-backend.js PORT  (prints "ready PORT").
 */
import net, { type AddressInfo } from 'node:net';
import { H2Connection } from '../src/h2/h2-connection.js';
import { getField } from '../src/h2/header-fields.js';
import type { H2Stream, StreamHandler } from '../src/h2/h2-stream.js';
import { grpcFrame } from './grpc-frame.js';
import { UNARY_REPLY_MESSAGE } from './reply-size.js';

const UNARY_REPLY = grpcFrame(Buffer.from(UNARY_REPLY_MESSAGE));
/** HealthCheckResponse { status: SERVING (1) }. */
const SERVING_REPLY = grpcFrame(Buffer.from([0x08, 0x01]));
const RESPONSE_HEAD = [':status', '200', 'content-type', 'application/grpc'];
const OK_TRAILERS = ['grpc-status', '0'];

/** Answers once the request is complete: head, one message, trailers. */
class UnaryReply implements StreamHandler {
  constructor(
    private readonly stream: H2Stream,
    private readonly reply: Buffer,
  ) {}

  onHeaders(_fields: string[], endStream: boolean): void {
    if (endStream) this.answer();
  }

  onData(_chunk: Buffer, endStream: boolean): void {
    if (endStream) this.answer();
  }

  onWritable(): void {}

  onClose(): void {}

  answer(): void {
    const stream = this.stream;
    stream.sendHeaders(RESPONSE_HEAD, false);
    stream.write(this.reply);
    stream.end(OK_TRAILERS);
  }
}

/** Sends `count` messages of `size` bytes, honouring backpressure, then trailers. */
class StreamReply implements StreamHandler {
  private sent = 0;
  private readonly message: Buffer;

  constructor(
    private readonly stream: H2Stream,
    private readonly count: number,
    size: number,
  ) {
    this.message = grpcFrame(Buffer.alloc(size, 0x61));
    stream.sendHeaders(RESPONSE_HEAD, false);
  }

  onHeaders(): void {}

  onData(): void {}

  onWritable(): void {
    this.pump();
  }

  onClose(): void {}

  pump(): void {
    while (this.sent < this.count) {
      this.sent++;
      if (!this.stream.write(this.message)) return;
    }
    this.stream.end(OK_TRAILERS);
  }
}

function onStream(stream: H2Stream, fields: string[], endStream: boolean): void {
  const path = getField(fields, ':path');
  if (path === '/bench.Bench/Stream') {
    const handler = new StreamReply(
      stream,
      Number(getField(fields, 'x-bench-count') ?? '1000'),
      Number(getField(fields, 'x-bench-size') ?? '1024'),
    );
    stream.handler = handler;
    handler.pump();
    return;
  }
  const handler = new UnaryReply(
    stream,
    path === '/grpc.health.v1.Health/Check' ? SERVING_REPLY : UNARY_REPLY,
  );
  stream.handler = handler;
  if (endStream) handler.answer();
}

const port = Number(process.argv[2] ?? '0');
const server = net.createServer((socket) => {
  socket.setNoDelay(true);
  new H2Connection(
    socket,
    {
      role: 'server',
      settings: { initialWindowSize: 1 << 20, maxConcurrentStreams: 10_000 },
      connectionWindow: 8 << 20,
    },
    { onStream },
  );
});
server.listen(port, '127.0.0.1', () => {
  process.stdout.write(`ready ${(server.address() as AddressInfo).port}\n`);
});
process.on('SIGTERM', () => process.exit(0));
