// Interop with a second gRPC implementation on the server side: a grpc-js
// client, through a real Switchyard, to a Debian python3-grpcio (gRPC C-core)
// backend (test/interop/python/echo_server.py).
import t from 'tap';
import * as grpc from '@grpc/grpc-js';
import { STATUS_DETAILS_KEY } from '../helpers/echo-backend.js';
import { collect, nextReply, serviceError } from '../helpers/echo-client.js';
import { connectClient } from '../helpers/harness.js';
import { proxyConfig, startProxy } from '../helpers/proxy.js';
import {
  metadataValues,
  nodeEngineForwardsHalfCloseBeforeReset,
  pythonGrpcVersion,
  SPECIAL_STATUS_MESSAGE,
  startPythonBackend,
  TRICKY_BYTES,
  type CallEnd,
  type PythonBackend,
} from './python-grpc.js';

/** The slow backend sleeps this long before answering Unary: far past the client's 300 ms. */
const SLOW_MS = 2000;
const DEADLINE_MS = 300;
const LARGE = 4 * 1024 * 1024;
/** Longest the backend may take to report a call's end once the client is done with it. */
const END_WAIT_MS = 5000;

/** Every call is tagged so the backend's events can be told apart. */
function tagged(tag: string, entries: readonly [string, string | Buffer][] = []): grpc.Metadata {
  const metadata = new grpc.Metadata();
  metadata.set('x-call-tag', tag);
  for (const [key, value] of entries) metadata.add(key, value);
  return metadata;
}

/** How a backend call ended (from `PythonBackend.nextEnd`), or `unseen` if not reported in time. */
async function endOf(end: Promise<CallEnd>): Promise<CallEnd | 'unseen'> {
  let timer: NodeJS.Timeout | undefined;
  const unseen = new Promise<'unseen'>((resolve) => {
    timer = setTimeout(() => {
      resolve('unseen');
    }, END_WAIT_MS);
  });
  try {
    return await Promise.race([end, unseen]);
  } finally {
    clearTimeout(timer);
  }
}

function textValue(metadata: grpc.Metadata, key: string): string {
  return metadata
    .get(key)
    .map((v) => (typeof v === 'string' ? v : `<bytes ${v.toString('hex')}>`))
    .join(', ');
}

void t.test('python3-grpcio (C-core) is installed for /usr/bin/python3', async (t) => {
  const version = await pythonGrpcVersion();
  t.comment(`python3-grpcio ${version}`);
  t.match(version, /^\d+\.\d+/);
});

void t.test('grpc-js client → Switchyard → python3-grpcio backend', async (t) => {
  const [backend, slow]: PythonBackend[] = await Promise.all([
    startPythonBackend(t, 'py1'),
    startPythonBackend(t, 'slow', { delayMs: SLOW_MS }),
  ]);
  if (backend === undefined || slow === undefined) throw new Error('backends did not start');
  const proxy = await startProxy(t, proxyConfig([backend.address]));
  const client = connectClient(t, proxy.address);
  const slowProxy = await startProxy(t, proxyConfig([slow.address]));
  const slowClient = connectClient(t, slowProxy.address);

  void t.test('unary', async (t) => {
    const payload = Buffer.from([0, 1, 2, 3, 254, 255]);
    const result = await client.unary({ message: 'hello from grpc-js', payload }, tagged('unary'));
    t.equal(result.status.code, grpc.status.OK);
    t.equal(result.reply.message, 'hello from grpc-js');
    t.ok(result.reply.payload.equals(payload), 'payload echoed byte for byte');
    t.equal(result.reply.backend, 'py1');
  });

  void t.test('server streaming', async (t) => {
    const result = await collect(
      client.serverStream({ message: 'tick', count: 5, replySize: 1000 }, tagged('stream')),
    );
    t.equal(result.status.code, grpc.status.OK);
    t.same(
      result.replies.map((r) => [r.index, r.payload.length, r.message, r.backend]),
      [0, 1, 2, 3, 4].map((i) => [i, 1000, 'tick', 'py1']),
      'five replies of 1000 bytes, in order',
    );
  });

  void t.test('client streaming', async (t) => {
    const { call, result } = client.clientStream(tagged('client-stream'));
    for (let i = 0; i < 5; i++) {
      call.write({ message: `part ${i}`, payload: Buffer.alloc(1024 * (i + 1), i) });
    }
    call.end();
    const { reply, status } = await result;
    t.equal(status.code, grpc.status.OK);
    t.equal(reply.index, 5, 'backend counted five requests');
    t.equal(reply.totalBytes, 15 * 1024, 'and 1+2+3+4+5 KiB of payload');
    t.equal(reply.message, 'part 4');
  });

  void t.test('bidi streaming, ping-pong', async (t) => {
    const call = client.bidi(tagged('bidi'));
    for (let i = 0; i < 5; i++) {
      call.write({ message: `ping ${i}` });
      const reply = await nextReply(call);
      t.same([reply.index, reply.message], [i, `ping ${i}`], `pong ${i}`);
    }
    call.end();
    const rest = await collect(call);
    t.equal(rest.status.code, grpc.status.OK);
    t.same(rest.replies, [], 'nothing after the last pong');
  });

  void t.test('4 MiB request and 4 MiB response', async (t) => {
    // Every byte value, in a period (251) that does not divide the frame sizes.
    const payload = Buffer.alloc(LARGE, Buffer.from(Array.from({ length: 251 }, (_, i) => i)));
    const result = await client.unary({ message: 'large', payload }, tagged('large'));
    t.equal(result.status.code, grpc.status.OK);
    t.equal(result.reply.payload.length, LARGE);
    t.ok(result.reply.payload.equals(payload), 'same bytes back');
    const big = await client.unary({ message: 'large reply', replySize: LARGE }, tagged('big'));
    t.equal(big.reply.payload.length, LARGE, 'a 4 MiB reply to a small request');
  });

  void t.test('custom metadata both ways, text and -bin, initial and trailing', async (t) => {
    const text = 'plain value: with spaces & symbols ~!@#$%^*()';
    const calls = backend.calls.length;
    const result = await client.unary(
      { message: 'metadata' },
      tagged('metadata', [
        ['x-echo-text', text],
        ['x-echo-data-bin', TRICKY_BYTES],
        ['x-request-only', 'to the backend'],
        ['x-request-only-bin', Buffer.from([1, 2, 3])],
      ]),
    );
    t.equal(result.status.code, grpc.status.OK);
    const seen = backend.calls.slice(calls).find((c) => c.tag === 'metadata');
    if (seen === undefined) throw new Error('the backend reported no call tagged metadata');
    t.same(metadataValues(seen.metadata, 'x-request-only'), ['to the backend']);
    t.same(metadataValues(seen.metadata, 'x-request-only-bin'), ['010203'], 'request -bin');
    t.same(
      metadataValues(seen.metadata, 'x-echo-data-bin'),
      [TRICKY_BYTES.toString('hex')],
      'request -bin bytes intact',
    );
    const { headers, trailers } = result;
    t.equal(textValue(headers, 'x-echo-text'), text);
    t.same(headers.get('x-echo-data-bin'), [TRICKY_BYTES], 'initial -bin bytes intact');
    t.equal(textValue(trailers, 'x-echo-text-trailer'), text);
    t.same(trailers.get('x-echo-data-trailer-bin'), [TRICKY_BYTES], 'trailing -bin bytes intact');
    t.same(headers.get('x-echo-text-trailer'), [], 'trailers stay trailers');
    t.same(trailers.get('x-echo-text'), [], 'headers stay headers');
  });

  for (const [name, echo] of [
    ['after response headers', true],
    ['trailers-only', false],
  ] as const) {
    void t.test(`non-OK status with the special status message, ${name}`, async (t) => {
      const details = Buffer.from('\x08\x02\x12\x0finterop details', 'latin1');
      const error = await serviceError(
        client.unary(
          {
            failCode: grpc.status.UNKNOWN,
            failMessage: SPECIAL_STATUS_MESSAGE,
            failDetails: details,
          },
          tagged('status', echo ? [['x-echo-status', 'failing']] : []),
        ),
      );
      t.equal(error.code, grpc.status.UNKNOWN);
      t.equal(error.details, SPECIAL_STATUS_MESSAGE, 'message decoded byte for byte');
      t.same(error.metadata.get(STATUS_DETAILS_KEY), [details], 'grpc-status-details-bin');
      if (echo) t.equal(textValue(error.metadata, 'x-echo-status-trailer'), 'failing');
    });
  }

  void t.test('failure at the end of a server stream', async (t) => {
    const stream = client.serverStream(
      { message: 'then fail', count: 3, failCode: grpc.status.ABORTED, failMessage: 'after 3' },
      tagged('stream-fail'),
    );
    const replies: number[] = [];
    stream.on('data', (reply: { index: number }) => replies.push(reply.index));
    const error = await serviceError(collect(stream));
    t.equal(error.code, grpc.status.ABORTED);
    t.equal(error.details, 'after 3');
    t.same(replies, [0, 1, 2], 'the replies before the failure arrived');
  });

  void t.test('unknown method of a routed service: UNIMPLEMENTED from the backend', async (t) => {
    const error = await serviceError(
      client.unaryAt('/switchyard.test.Echo/Nope', { message: 'x' }, tagged('nope')),
    );
    t.equal(error.code, grpc.status.UNIMPLEMENTED);
    // C-core's answer for a method no handler claims.
    t.equal(error.details, 'Method not found!');
    t.notMatch(error.details, /no route/i, 'not the proxy’s own reply');
  });

  void t.test('cancellation reaches the backend', async (t) => {
    const ended = backend.nextEnd('cancel');
    const call = client.bidi(tagged('cancel'));
    call.write({ message: 'before cancel' });
    const first = await nextReply(call);
    t.equal(first.message, 'before cancel', 'the call was up before the cancel');
    const error = serviceError(collect(call));
    call.cancel();
    t.equal((await error).code, grpc.status.CANCELLED);
    const end = await endOf(ended);
    // grpc-js cancels with END_STREAM then RST_STREAM; see
    // nodeEngineForwardsHalfCloseBeforeReset.
    t.same(end, { how: 'cancelled', method: 'Bidi', tag: 'cancel' }, 'backend saw a cancel', {
      ...nodeEngineForwardsHalfCloseBeforeReset(),
    });
  });

  void t.test('cancelling a unary call while the backend works on it', async (t) => {
    const ended = slow.nextEnd('cancel-unary');
    const started = new Promise<void>((resolve) => {
      const onCall = (call: { tag: string | null }): void => {
        if (call.tag !== 'cancel-unary') return;
        slow.events.off('call', onCall);
        resolve();
      };
      slow.events.on('call', onCall);
    });
    const raw = slowClient.raw;
    const method = '/switchyard.test.Echo/Unary';
    let call: grpc.ClientUnaryCall | undefined;
    const result = new Promise<grpc.ServiceError | null>((resolve) => {
      call = raw.makeUnaryRequest(
        method,
        () => Buffer.alloc(0),
        (bytes: Buffer) => bytes,
        {},
        tagged('cancel-unary'),
        (error) => resolve(error),
      );
    });
    await started;
    call?.cancel();
    t.equal((await result)?.code, grpc.status.CANCELLED);
    t.same(await endOf(ended), { how: 'cancelled', method: 'Unary', tag: 'cancel-unary' });
  });

  void t.test('deadline exceeded against a slow backend', async (t) => {
    const ended = slow.nextEnd('deadline');
    const started = performance.now();
    const error = await serviceError(
      slowClient.unary({ message: 'too slow' }, tagged('deadline'), {
        deadline: Date.now() + DEADLINE_MS,
      }),
    );
    const elapsed = performance.now() - started;
    t.equal(error.code, grpc.status.DEADLINE_EXCEEDED, error.details);
    t.ok(elapsed >= DEADLINE_MS - 50, `not long before the deadline (${Math.round(elapsed)} ms)`);
    t.ok(elapsed < 1500, `long before the backend's ${SLOW_MS} ms (${Math.round(elapsed)} ms)`);
    t.same(await endOf(ended), { how: 'cancelled', method: 'Unary', tag: 'deadline' });
    const seen = slow.calls.find((c) => c.tag === 'deadline');
    t.ok(
      seen?.timeRemaining !== null &&
        seen?.timeRemaining !== undefined &&
        seen.timeRemaining <= DEADLINE_MS / 1000,
      `the backend got the deadline (${seen?.timeRemaining} s left)`,
    );
  });
});
