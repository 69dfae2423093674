// Cluster limits (circuit_breaker) and the retry budget, end to end with
// real grpc-js backends and clients.
import * as grpc from '@grpc/grpc-js';
import t from 'tap';
import type { TestContext } from '../helpers/context.js';
import { connectClient } from '../helpers/harness.js';
import { isServiceError, serviceError } from '../helpers/echo-client.js';
import { CLUSTER_NAME, proxyConfig, startProxy } from '../helpers/proxy.js';
import { grpcError, startScriptedBackend } from '../helpers/scripted-backend.js';
import { startTcpServer } from '../helpers/tcp-server.js';
import { until } from '../helpers/upstream-backend.js';

interface Settled {
  readonly code: number;
  readonly details: string;
}

/** A call's status, never a rejection (so nothing is unhandled while a test waits). */
function settle(call: Promise<unknown>): Promise<Settled> {
  return call.then(
    () => ({ code: grpc.status.OK, details: '' }),
    (error: unknown) =>
      isServiceError(error)
        ? { code: error.code, details: error.details }
        : { code: -1, details: String(error) },
  );
}

/** How many calls ended with each gRPC status code (0 for OK). */
async function statusCounts(calls: readonly Promise<Settled>[]): Promise<Map<number, number>> {
  const counts = new Map<number, number>();
  for (const { code } of await Promise.all(calls)) counts.set(code, (counts.get(code) ?? 0) + 1);
  return counts;
}

void t.test('max_requests 10 with 50 calls held open gives exactly 40 UNAVAILABLE', async (t) => {
  const held: (() => void)[] = [];
  let arrived = 0;
  let allArrived: () => void = () => undefined;
  const tenArrived = new Promise<void>((resolve) => (allArrived = resolve));
  const backend = await startScriptedBackend(t, 'b1', {
    unary: (_call, callback) => {
      held.push(() => callback(null, { backend: 'b1' }));
      if (++arrived === 10) allArrived();
    },
  });
  const running = await startProxy(
    t,
    proxyConfig([backend.address], { cluster: { circuit_breaker: { max_requests: 10 } } }),
  );
  const client = connectClient(t, running.address);
  const overflowed: Settled[] = [];
  const calls = Array.from({ length: 50 }, (_, i) =>
    settle(client.unary({ message: `m${i}` })).then((result) => {
      if (result.code !== 0) overflowed.push(result); // 0: OK
      return result;
    }),
  );
  await tenArrived;
  // The 40 refusals are immediate: they all arrive while the 10 are still held.
  await until(() => overflowed.length >= 40, '40 calls were refused');
  t.equal(backend.calls.length, 10, 'only 10 reached the backend');
  for (const release of held) release();
  const counts = await statusCounts(calls);
  t.equal(counts.get(grpc.status.UNAVAILABLE), 40, 'exactly 40 refused');
  t.equal(counts.get(grpc.status.OK), 10, 'the 10 admitted succeed');
  t.match(overflowed[0]?.details ?? '', /circuit_breaker\.max_requests \(10 calls in flight\)/);
  t.equal(running.proxy.cluster(CLUSTER_NAME)?.limits.overflows().max_requests, 40);
});

void t.test(
  'max_connections: at the cap an endpoint without a connection is refused',
  async (t) => {
    const b1 = await startScriptedBackend(t, 'b1', {});
    const b2 = await startScriptedBackend(t, 'b2', {});
    const running = await startProxy(
      t,
      proxyConfig([b1.address, b2.address], {
        cluster: { circuit_breaker: { max_connections: 1 } },
      }),
    );
    const client = connectClient(t, running.address);
    const first = await client.unary({ message: 'one' });
    t.equal(first.reply.backend, 'b1', 'the first call opens the one connection');
    const error = await serviceError(client.unary({ message: 'two' }));
    t.equal(error.code, grpc.status.UNAVAILABLE);
    t.match(error.details, /circuit_breaker\.max_connections \(1 connections\)/);
    t.equal(b2.calls.length, 0);
    const third = await client.unary({ message: 'three' });
    t.equal(third.reply.backend, 'b1', 'calls to the connected endpoint still flow');
    t.equal(running.proxy.cluster(CLUSTER_NAME)?.limits.overflows().max_connections, 1);
  },
);

void t.test(
  'max_pending: calls past it fail at once while one waits for a connection',
  async (t) => {
    // Accepts TCP and never speaks HTTP/2: calls to it wait for their connection.
    const address = await startTcpServer(t, () => undefined);
    const running = await startProxy(
      t,
      proxyConfig([address], { cluster: { circuit_breaker: { max_pending: 1 } } }),
    );
    const client = connectClient(t, running.address);
    const waiting = serviceError(
      client.unary({ message: 'waits' }, new grpc.Metadata(), { deadline: Date.now() + 1000 }),
    );
    // The first call is pending once the proxy counts it; then a second overflows.
    const limits = running.proxy.cluster(CLUSTER_NAME)?.limits;
    await new Promise<void>((resolve) => {
      const check = setInterval(() => {
        if (limits?.pending.inFlight === 1) {
          clearInterval(check);
          resolve();
        }
      }, 5);
    });
    const refused = await serviceError(client.unary({ message: 'refused' }));
    t.equal(refused.code, grpc.status.UNAVAILABLE);
    t.match(refused.details, /circuit_breaker\.max_pending \(1 calls waiting for a connection\)/);
    t.equal(
      (await waiting).code,
      grpc.status.DEADLINE_EXCEEDED,
      'the waiting call hits its deadline',
    );
    await until(() => limits?.pending.inFlight === 0, 'the cancelled call is no longer pending');
    t.pass('and is no longer pending once its stream closed');
  },
);

/** 100 concurrent calls to an always-failing backend; attempts it saw per call. */
async function outage(
  t: TestContext,
  retryBudget: { budget_percent: number; min_retry_concurrency?: number } | undefined,
): Promise<{ perCall: number; failed: number }> {
  const backend = await startScriptedBackend(t, 'down', {
    unary: (_call, callback) => callback(grpcError(grpc.status.UNAVAILABLE, 'outage')),
  });
  const running = await startProxy(
    t,
    proxyConfig([backend.address], {
      route: { retry: { max_attempts: 3, backoff: { base: '5ms', max: '20ms' } } },
      cluster: retryBudget === undefined ? {} : { retry_budget: retryBudget },
    }),
  );
  const client = connectClient(t, running.address);
  const calls = Array.from({ length: 100 }, (_, i) => settle(client.unary({ message: `m${i}` })));
  const counts = await statusCounts(calls);
  return { perCall: backend.calls.length / 100, failed: counts.get(grpc.status.UNAVAILABLE) ?? 0 };
}

void t.test('in an outage the retry budget keeps attempts per call at most 1.5', async (t) => {
  const budget = await outage(t, undefined);
  t.equal(budget.failed, 100, 'every call fails');
  t.ok(budget.perCall <= 1.5, `default budget (20%, at least 3): ${budget.perCall} per call`);
  t.ok(budget.perCall > 1, `but some calls were retried (${budget.perCall})`);
  const unlimited = await outage(t, { budget_percent: 100 });
  t.equal(unlimited.failed, 100, 'every call fails');
  t.ok(
    unlimited.perCall >= 2.7,
    `a budget of 100% lets nearly every call retry: ${unlimited.perCall}`,
  );
});
