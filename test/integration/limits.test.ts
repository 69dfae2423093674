/**
 * Listener limits and flow control: max_message_size answers
 * RESOURCE_EXHAUSTED both ways, and a side that stops reading makes the
 * other side stall once the HTTP/2 windows are full, so the proxy buffers a
 * bounded amount per stream.
 */
import http2 from 'node:http2';
import type { Writable } from 'node:stream';
import t from 'tap';
import * as grpc from '@grpc/grpc-js';
import { serviceError } from '../helpers/echo-client.js';
import { proxiedEcho } from '../helpers/harness.js';
import { proxyConfig, startProxy } from '../helpers/proxy.js';
import { grpcMessage, startRawBackend, type RawStream } from '../helpers/raw-backend.js';
import { grpcRequest, rawSession } from '../helpers/raw-client.js';

const PATH = '/switchyard.test.Echo/ServerStream';

void t.test('max_message_size: an oversized request or reply is RESOURCE_EXHAUSTED', async (t) => {
  const { client, backends } = await proxiedEcho(t, ['b1'], {
    listener: { limits: { max_message_size: '4KiB' } },
  });
  const ok = await client.unary({ message: 'small', payload: Buffer.alloc(1000) });
  t.equal(ok.reply.message, 'small');
  const big = await serviceError(client.unary({ payload: Buffer.alloc(8192) }));
  t.equal(big.code, grpc.status.RESOURCE_EXHAUSTED);
  t.match(big.details, /request message of \d+ bytes exceeds max_message_size 4096/);
  t.equal(backends[0]?.calls, 1, 'the oversized request never completed at the backend');
  const bigReply = await serviceError(
    new Promise((resolve, reject) => {
      const call = client.serverStream({ count: 1, replySize: 8192 });
      call.on('data', () => undefined);
      call.on('error', reject);
      call.on('end', resolve);
    }),
  );
  t.equal(bigReply.code, grpc.status.RESOURCE_EXHAUSTED);
  t.match(bigReply.details, /response message/);
});

/** Polls `read` until it stops changing for `quietMs` (bounded): the writer has stalled. */
async function settled(read: () => number, quietMs = 300, limitMs = 10_000): Promise<number> {
  const until = Date.now() + limitMs;
  let last = read();
  let since = Date.now();
  while (Date.now() < until) {
    await new Promise((resolve) => setTimeout(resolve, 50));
    const now = read();
    if (now !== last) {
      last = now;
      since = Date.now();
    } else if (Date.now() - since >= quietMs) {
      return now;
    }
  }
  throw new Error(`still moving after ${limitMs} ms: ${last}`);
}

/** Polls `condition` every 20 ms until it holds (bounded, for state that has no event). */
async function until(condition: () => boolean, limitMs = 10_000): Promise<void> {
  const deadline = Date.now() + limitMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`condition not met in ${limitMs} ms`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

const MESSAGE = grpcMessage(Buffer.alloc(16 * 1024, 0x62));
/** Writes MESSAGE as fast as flow control allows (up to 64 MiB), reporting each write. */
function writeUntilBlocked(
  stream: Writable & { destroyed: boolean },
  wrote: (bytes: number) => void,
): void {
  let total = 0;
  const pump = (): void => {
    while (!stream.destroyed && total < 64 * 1024 * 1024) {
      total += MESSAGE.length;
      wrote(MESSAGE.length);
      if (!stream.write(MESSAGE)) {
        stream.once('drain', pump);
        return;
      }
    }
  };
  pump();
}

/** 1 MiB stream window each side of the proxy, plus its 16 KiB write buffers, with room to spare. */
const BOUND = 4 * 1024 * 1024;

void t.test('a client that stops reading stalls the backend (bounded buffering)', async (t) => {
  let written = 0;
  const backend = await startRawBackend(t, (call: RawStream) => {
    const { stream } = call;
    stream.resume();
    stream.respond({ ':status': 200, 'content-type': 'application/grpc' });
    writeUntilBlocked(stream, (bytes) => (written += bytes));
  });
  const { address } = await startProxy(t, proxyConfig([backend.address]));
  const session = await rawSession(t, address);
  const stream = grpcRequest(session, PATH);
  stream.on('error', () => undefined);
  stream.end(grpcMessage(Buffer.alloc(0)));
  stream.pause(); // never read
  const stalledAt = await settled(() => written);
  t.ok(stalledAt > 0, 'the backend sent something');
  t.ok(stalledAt < BOUND, `backend stalled after ${stalledAt} bytes (< ${BOUND})`);
  let received = 0;
  stream.on('data', (chunk: Buffer) => (received += chunk.length));
  stream.resume();
  await until(() => written > stalledAt && received > 0);
  t.pass('the backend resumed once the client read: the stall was flow control');
  stream.close(http2.constants.NGHTTP2_CANCEL);
});

void t.test('a backend that stops reading stalls the client (bounded buffering)', async (t) => {
  const backend = await startRawBackend(t, (call: RawStream) => {
    call.stream.pause(); // never read the request
    call.stream.respond({ ':status': 200, 'content-type': 'application/grpc' });
  });
  const { address } = await startProxy(t, proxyConfig([backend.address]));
  const session = await rawSession(t, address);
  const stream = grpcRequest(session, '/switchyard.test.Echo/ClientStream');
  stream.on('error', () => undefined);
  let written = 0;
  writeUntilBlocked(stream, (bytes) => (written += bytes));
  const stalledAt = await settled(() => written);
  t.ok(stalledAt < BOUND, `client stalled after ${stalledAt} bytes (< ${BOUND})`);
  stream.close(http2.constants.NGHTTP2_CANCEL);
});
