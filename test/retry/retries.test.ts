// Retries under a route's retry policy, end to end: real grpc-js backends
// scripted per call, a real proxy, a real grpc-js client.
import * as grpc from '@grpc/grpc-js';
import t from 'tap';
import type { TestContext } from '../helpers/context.js';
import type { RetryPolicyConfig } from '../../src/config/schema.js';
import { connectClient } from '../helpers/harness.js';
import { collect, serviceError } from '../helpers/echo-client.js';
import { proxyConfig, startProxy, type ProxyConfigOverrides } from '../helpers/proxy.js';
import {
  grpcError,
  metadataOf,
  startScriptedBackend,
  type ScriptedBackend,
  type Scripts,
} from '../helpers/scripted-backend.js';

const FAST_BACKOFF = { base: '1ms', max: '5ms' };

async function retryingProxy(
  t: TestContext,
  backends: readonly ScriptedBackend[],
  retry: RetryPolicyConfig,
  overrides: ProxyConfigOverrides = {},
): Promise<ReturnType<typeof connectClient>> {
  const running = await startProxy(
    t,
    proxyConfig(
      backends.map((b) => b.address),
      { ...overrides, route: { retry: { backoff: FAST_BACKOFF, ...retry }, ...overrides.route } },
    ),
  );
  return connectClient(t, running.address);
}

/** Unary script: the first `failures` calls fail with `error`, the rest answer OK. */
function failFirst(failures: number, error: () => grpc.ServiceError): Scripts {
  return {
    unary: (call, callback, n) => {
      if (n <= failures) callback(error());
      else callback(null, { message: call.request.message, backend: `call ${n}` });
    },
  };
}

const unavailable = (): grpc.ServiceError => grpcError(grpc.status.UNAVAILABLE, 'backend blip');

void t.test('a unary call that fails UNAVAILABLE once is retried and succeeds', async (t) => {
  const backend = await startScriptedBackend(t, 'b1', failFirst(1, unavailable));
  const client = await retryingProxy(t, [backend], { retry_on: ['unavailable'] });
  const result = await client.unary({ message: 'hi' });
  t.equal(result.status.code, grpc.status.OK);
  t.equal(result.reply.backend, 'call 2', 'the second attempt answered');
  t.equal(backend.calls.length, 2);
  t.equal(metadataOf(backend, 1, 'grpc-previous-rpc-attempts'), undefined, 'first: no header');
  t.equal(metadataOf(backend, 2, 'grpc-previous-rpc-attempts'), '1', 'retry says 1 before');
});

void t.test('a retry goes to another endpoint when there is one', async (t) => {
  const bad = await startScriptedBackend(t, 'bad', failFirst(Infinity, unavailable));
  const good = await startScriptedBackend(t, 'good', failFirst(0, unavailable));
  const client = await retryingProxy(t, [bad, good], { retry_on: ['unavailable'] });
  for (let i = 0; i < 10; i++) {
    const result = await client.unary({ message: `m${i}` });
    t.equal(result.status.code, grpc.status.OK, `call ${i} succeeded`);
  }
  t.equal(good.calls.length, 10, 'every call ended on the good backend');
  t.ok(bad.calls.length >= 1, `the bad backend got first attempts (${bad.calls.length})`);
  const retried = good.calls.filter((c) => c.metadata.get('grpc-previous-rpc-attempts')[0] === '1');
  t.equal(retried.length, bad.calls.length, 'each of them was retried on the good one');
});

void t.test('statuses not in retry_on are forwarded at once', async (t) => {
  const backend = await startScriptedBackend(
    t,
    'b1',
    failFirst(1, () => grpcError(grpc.status.NOT_FOUND, 'no such thing')),
  );
  const client = await retryingProxy(t, [backend], { retry_on: ['unavailable'] });
  const error = await serviceError(client.unary({ message: 'hi' }));
  t.equal(error.code, grpc.status.NOT_FOUND);
  t.equal(error.details, 'no such thing');
  t.equal(backend.calls.length, 1);
});

void t.test('max_attempts 3 against an always-failing backend makes exactly 3', async (t) => {
  const backend = await startScriptedBackend(
    t,
    'b1',
    failFirst(Infinity, () =>
      grpcError(grpc.status.UNAVAILABLE, 'down for good', { 'x-why': 'maintenance' }),
    ),
  );
  const client = await retryingProxy(t, [backend], { max_attempts: 3 });
  const error = await serviceError(client.unary({ message: 'hi' }));
  t.equal(error.code, grpc.status.UNAVAILABLE);
  t.equal(error.details, 'down for good', "the last attempt's reply is forwarded as it came");
  t.equal(error.metadata.get('x-why')[0], 'maintenance', 'with its trailers');
  t.equal(backend.calls.length, 3);
  t.same(
    backend.calls.map((c) => c.metadata.get('grpc-previous-rpc-attempts')[0]),
    [undefined, '1', '2'],
  );
});

void t.test('a server stream failing in trailers before any message is retried', async (t) => {
  const backend = await startScriptedBackend(t, 'b1', {
    serverStream: (call, n) => {
      const headers = new grpc.Metadata();
      headers.set('x-attempt', String(n));
      call.sendMetadata(headers);
      if (n === 1) {
        call.emit('error', grpcError(grpc.status.UNAVAILABLE, 'failed before any message'));
        return;
      }
      for (let i = 0; i < 3; i++) call.write({ message: `r${i}`, backend: 'b1', index: i });
      call.end();
    },
  });
  const client = await retryingProxy(t, [backend], { retry_on: ['unavailable'] });
  const result = await collect(client.serverStream({ message: 'go' }));
  t.equal(result.status.code, grpc.status.OK);
  t.same(
    result.replies.map((r) => r.message),
    ['r0', 'r1', 'r2'],
  );
  t.equal(result.headers.get('x-attempt')[0], '2', "the client saw only the retry's headers");
  t.equal(backend.calls.length, 2);
});

void t.test('a stream that fails after sending a message is not retried', async (t) => {
  const backend = await startScriptedBackend(t, 'b1', {
    serverStream: (call) => {
      call.write({ message: 'first', backend: 'b1' });
      call.emit('error', grpcError(grpc.status.UNAVAILABLE, 'failed mid-stream'));
    },
  });
  const client = await retryingProxy(t, [backend], { retry_on: ['unavailable'] });
  const stream = client.serverStream({ message: 'go' });
  const messages: string[] = [];
  stream.on('data', (reply: { message: string }) => messages.push(reply.message));
  const error = await serviceError(collect(stream));
  t.equal(error.code, grpc.status.UNAVAILABLE);
  t.equal(error.details, 'failed mid-stream', "the backend's status, as it came");
  t.same(messages, ['first']);
  t.equal(backend.calls.length, 1, 'committed by the first message: no retry');
});

void t.test('a bidi client waiting for initial metadata gets it within hold', async (t) => {
  const holdMs = 150;
  const backend = await startScriptedBackend(t, 'b1', {
    bidi: (call) => {
      call.sendMetadata(new grpc.Metadata());
      call.on('data', (request: { message: string }) => {
        call.write({ message: `echo ${request.message}`, backend: 'b1' });
      });
      call.on('end', () => call.end());
    },
  });
  const client = await retryingProxy(t, [backend], { hold: `${holdMs}ms` });
  const started = performance.now();
  const stream = client.bidi();
  await new Promise<void>((resolve) => stream.once('metadata', () => resolve()));
  const waited = performance.now() - started;
  t.ok(waited < holdMs + 1000, `and no longer than hold, give or take a busy machine`);
  t.ok(
    waited >= holdMs - 5,
    `headers were held while a retry was possible (${waited.toFixed(0)}ms)`,
  );
  stream.write({ message: 'a' });
  stream.end();
  const result = await collect(stream);
  t.same(
    result.replies.map((r) => r.message),
    ['echo a'],
  );
  t.equal(result.status.code, grpc.status.OK);
  t.equal(backend.calls.length, 1);
});

void t.test('a request body over buffer_limit is not retried', async (t) => {
  const backend = await startScriptedBackend(t, 'b1', failFirst(1, unavailable));
  const client = await retryingProxy(t, [backend], { buffer_limit: '1KiB' });
  const error = await serviceError(client.unary({ payload: Buffer.alloc(4096, 1) }));
  t.equal(error.code, grpc.status.UNAVAILABLE);
  t.equal(error.details, 'backend blip');
  t.equal(backend.calls.length, 1, 'committed by its size');
  const small = await client.unary({ payload: Buffer.alloc(100, 1) });
  t.equal(small.status.code, grpc.status.OK, 'a small one (backend now healthy) succeeds');
});

void t.test('a small request body is replayed to the retry', async (t) => {
  const backend = await startScriptedBackend(t, 'b1', {
    unary: (call, callback, n) => {
      if (n === 1) callback(unavailable());
      else callback(null, { payload: call.request.payload, backend: 'b1' });
    },
  });
  const client = await retryingProxy(t, [backend], {});
  const payload = Buffer.alloc(30_000, 7);
  const result = await client.unary({ payload });
  t.equal(Buffer.compare(result.reply.payload, payload), 0, 'the retry got the whole request');
  t.equal(backend.calls.length, 2);
});

void t.test('grpc-retry-pushback-ms 200 delays the retry by at least 200 ms', async (t) => {
  const backend = await startScriptedBackend(
    t,
    'b1',
    failFirst(1, () =>
      grpcError(grpc.status.UNAVAILABLE, 'later please', { 'grpc-retry-pushback-ms': '200' }),
    ),
  );
  const client = await retryingProxy(t, [backend], {});
  const result = await client.unary({ message: 'hi' });
  t.equal(result.status.code, grpc.status.OK);
  const [first, second] = backend.calls;
  t.ok(first !== undefined && second !== undefined);
  const gap = (second?.at ?? 0) - (first?.at ?? 0);
  t.ok(gap >= 200, `the retry waited ${gap.toFixed(0)}ms`);
});

void t.test('grpc-retry-pushback-ms -1 stops retrying', async (t) => {
  const backend = await startScriptedBackend(
    t,
    'b1',
    failFirst(1, () =>
      grpcError(grpc.status.UNAVAILABLE, 'do not retry', { 'grpc-retry-pushback-ms': '-1' }),
    ),
  );
  const client = await retryingProxy(t, [backend], {});
  const error = await serviceError(client.unary({ message: 'hi' }));
  t.equal(error.code, grpc.status.UNAVAILABLE);
  t.equal(error.details, 'do not retry');
  t.equal(backend.calls.length, 1);
});

void t.test('per_try_timeout cancels a silent attempt and retries', async (t) => {
  const backend = await startScriptedBackend(t, 'b1', {
    unary: (call, callback, n) => {
      if (n > 1) callback(null, { backend: `call ${n}` });
      // The first call never answers; the proxy cancels it.
    },
  });
  const client = await retryingProxy(t, [backend], { per_try_timeout: '100ms' });
  const result = await client.unary({ message: 'hi' });
  t.equal(result.reply.backend, 'call 2');
  t.equal(backend.calls.length, 2);
});

void t.test('no retry goes past the deadline', async (t) => {
  const backend = await startScriptedBackend(
    t,
    'b1',
    failFirst(1, () =>
      grpcError(grpc.status.UNAVAILABLE, 'later', { 'grpc-retry-pushback-ms': '5000' }),
    ),
  );
  const client = await retryingProxy(t, [backend], {});
  const error = await serviceError(
    client.unary({ message: 'hi' }, new grpc.Metadata(), { deadline: Date.now() + 1000 }),
  );
  t.equal(error.code, grpc.status.UNAVAILABLE, 'the failure is forwarded at once');
  t.equal(error.details, 'later');
  t.equal(backend.calls.length, 1);
});

void t.test('outlier detection judges every attempt, not only the last', async (t) => {
  const bad = await startScriptedBackend(t, 'bad', failFirst(Infinity, unavailable));
  const good = await startScriptedBackend(t, 'good', failFirst(0, unavailable));
  const client = await retryingProxy(
    t,
    [bad, good],
    {},
    { cluster: { outlier_detection: { consecutive_failures: 2, max_ejection_percent: 50 } } },
  );
  for (let i = 0; i < 10; i++) {
    const result = await client.unary({ message: `m${i}` });
    t.equal(result.status.code, grpc.status.OK, `call ${i} succeeded after its retries`);
  }
  t.equal(bad.calls.length, 2, 'ejected after 2 failed attempts, although every call succeeded');
});
