// Hedging (route `hedge:`): staggered attempts to several endpoints, the
// first answer wins and the others are cancelled. Real grpc-js backends.
import * as grpc from '@grpc/grpc-js';
import t from 'tap';
import type { HedgePolicyConfig } from '../../src/config/schema.js';
import type { TestContext } from '../helpers/context.js';
import { serviceError } from '../helpers/echo-client.js';
import { connectClient } from '../helpers/harness.js';
import { proxyConfig, startProxy } from '../helpers/proxy.js';
import {
  grpcError,
  metadataOf,
  startScriptedBackend,
  type ScriptedBackend,
  type Scripts,
} from '../helpers/scripted-backend.js';
import { until } from '../helpers/upstream-backend.js';

async function hedgingClient(
  t: TestContext,
  backends: readonly ScriptedBackend[],
  hedge: HedgePolicyConfig,
): Promise<ReturnType<typeof connectClient>> {
  const running = await startProxy(
    t,
    proxyConfig(
      backends.map((b) => b.address),
      { route: { idempotent: true, hedge } },
    ),
  );
  return connectClient(t, running.address);
}

/** Answers OK after `delayMs`, counting calls the proxy cancelled. */
function slowOk(id: string, delayMs: number, cancelled: { count: number }): Scripts {
  return {
    unary: (call, callback) => {
      const timer = setTimeout(() => callback(null, { backend: id }), delayMs);
      call.on('cancelled', () => {
        clearTimeout(timer);
        cancelled.count++;
      });
    },
  };
}

const always = (error: () => grpc.ServiceError): Scripts => ({
  unary: (_call, callback) => callback(error()),
});

void t.test(
  'a slow first attempt is hedged; the fast one wins, the slow one is cancelled',
  async (t) => {
    const slowCancelled = { count: 0 };
    const slow = await startScriptedBackend(t, 'slow', slowOk('slow', 2000, slowCancelled));
    const fast = await startScriptedBackend(t, 'fast', slowOk('fast', 0, { count: 0 }));
    const client = await hedgingClient(t, [slow, fast], { delay: '50ms' });
    const started = performance.now();
    const result = await client.unary({ message: 'hi' });
    const took = performance.now() - started;
    t.equal(result.reply.backend, 'fast');
    t.ok(took < 1500, `answered by the hedge, not the slow backend (${took.toFixed(0)} ms)`);
    t.equal(slow.calls.length, 1, 'round robin sent the first attempt to the slow backend');
    t.equal(
      metadataOf(fast, 1, 'grpc-previous-rpc-attempts'),
      '1',
      'the hedge says one went before',
    );
    await until(() => slowCancelled.count === 1, 'the slow attempt is cancelled');
    t.pass('the losing attempt was cancelled');
  },
);

void t.test('no hedge is sent when the first attempt answers within the delay', async (t) => {
  const b1 = await startScriptedBackend(t, 'b1', {});
  const b2 = await startScriptedBackend(t, 'b2', {});
  const client = await hedgingClient(t, [b1, b2], { delay: '1s' });
  for (let i = 0; i < 10; i++) await client.unary({ message: `m${i}` });
  t.equal(b1.calls.length + b2.calls.length, 10, 'one attempt per call');
});

void t.test('a non-fatal failure sends the next hedge at once', async (t) => {
  const down = await startScriptedBackend(
    t,
    'down',
    always(() => grpcError(grpc.status.UNAVAILABLE, 'down')),
  );
  const up = await startScriptedBackend(t, 'up', {});
  const client = await hedgingClient(t, [down, up], { delay: '5s' });
  const started = performance.now();
  const result = await client.unary({ message: 'hi' });
  const took = performance.now() - started;
  t.equal(result.reply.message, 'hi');
  t.ok(took < 2500, `not after the 5 s delay (${took.toFixed(0)} ms)`);
  t.equal(down.calls.length, 1);
  t.equal(up.calls.length, 1);
});

void t.test('a fatal status is the reply at once; no hedge follows', async (t) => {
  const b1 = await startScriptedBackend(
    t,
    'b1',
    always(() => grpcError(grpc.status.NOT_FOUND, 'no such thing')),
  );
  const b2 = await startScriptedBackend(t, 'b2', {});
  const client = await hedgingClient(t, [b1, b2], { delay: '5s' });
  const error = await serviceError(client.unary({ message: 'hi' }));
  t.equal(error.code, grpc.status.NOT_FOUND);
  t.equal(error.details, 'no such thing');
  t.equal(b2.calls.length, 0);
});

void t.test('max_attempts bounds the hedges; the last failure is forwarded', async (t) => {
  const backends = await Promise.all(
    ['b1', 'b2', 'b3'].map((id) =>
      startScriptedBackend(
        t,
        id,
        always(() => grpcError(grpc.status.UNAVAILABLE, `${id} down`)),
      ),
    ),
  );
  const client = await hedgingClient(t, backends, { delay: '10ms', max_attempts: 2 });
  const error = await serviceError(client.unary({ message: 'hi' }));
  t.equal(error.code, grpc.status.UNAVAILABLE);
  t.match(error.details, /^b\d down$/);
  t.equal(
    backends.reduce((sum, b) => sum + b.calls.length, 0),
    2,
    'exactly max_attempts attempts',
  );
});
