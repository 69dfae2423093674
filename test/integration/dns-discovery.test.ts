// DNS discovery end to end: a real UDP DNS server (test/helpers/dns-server.ts)
// answers for backends.test, the proxy's resolver points at it, and three real
// echo backends listen on 127.0.0.1, 127.0.0.2 and 127.0.0.3, all on the same
// port. The name resolves to two backends, then three, then one; one client
// connection to the proxy throughout.
import { once } from 'node:events';
import { promises as dnsPromises } from 'node:dns';
import t from 'tap';
import * as grpc from '@grpc/grpc-js';
import type { TestContext } from '../helpers/context.js';
import { startDnsServer, type TestDnsServer } from '../helpers/dns-server.js';
import { startEchoBackend, type EchoBackend } from '../helpers/echo-backend.js';
import { collect, nextReply, serviceError, type EchoClient } from '../helpers/echo-client.js';
import { connectClient } from '../helpers/harness.js';
import { CLUSTER_NAME, proxyConfig, startProxy } from '../helpers/proxy.js';
import type { Cluster } from '../../src/upstream/cluster.js';

const NAME = 'backends.test';

/** b1, b2, b3 on 127.0.0.1, .2 and .3, one port P (found by binding 127.0.0.1:0 first). */
async function threeBackendsOnOnePort(
  t: TestContext,
): Promise<[EchoBackend, EchoBackend, EchoBackend]> {
  const b1 = await startEchoBackend('b1');
  t.teardown(() => b1.close());
  const b2 = await startEchoBackend('b2', { host: '127.0.0.2', port: b1.port });
  t.teardown(() => b2.close());
  const b3 = await startEchoBackend('b3', { host: '127.0.0.3', port: b1.port });
  t.teardown(() => b3.close());
  return [b1, b2, b3];
}

/** Resolves once the cluster's member keys are `keys` (at once if they already are). */
async function membersBecome(cluster: Cluster, keys: readonly string[]): Promise<void> {
  const matches = (): boolean =>
    cluster.memberKeys.length === keys.length && keys.every((k) => cluster.memberKeys.includes(k));
  while (!matches()) await once(cluster.events, 'membership');
}

/** Unary calls, `concurrency` at a time, until `stop()`; the backend of each, and failures. */
function callStream(
  client: EchoClient,
  concurrency: number,
): { servedBy: string[]; failures: unknown[]; stop: () => Promise<void> } {
  const servedBy: string[] = [];
  const failures: unknown[] = [];
  let stopped = false;
  const worker = async (): Promise<void> => {
    while (!stopped) {
      try {
        const { reply } = await client.unary({ message: 'tick' });
        servedBy.push(reply.backend);
      } catch (error) {
        failures.push(error);
      }
    }
  };
  const workers = Promise.all(Array.from({ length: concurrency }, worker));
  return {
    servedBy,
    failures,
    stop: async () => {
      stopped = true;
      await workers;
    },
  };
}

async function callMany(client: EchoClient, count: number): Promise<string[]> {
  const servedBy: string[] = [];
  for (let i = 0; i < count; i++)
    servedBy.push((await client.unary({ message: `m${i}` })).reply.backend);
  return servedBy;
}

/** Resolves once `dns` has answered `count` more queries. */
async function queries(dns: TestDnsServer, count: number): Promise<void> {
  for (let i = 0; i < count; i++) await once(dns.events, 'query');
}

function tally(servedBy: readonly string[]): Record<string, number> {
  const out: Record<string, number> = {};
  for (const id of servedBy) out[id] = (out[id] ?? 0) + 1;
  return out;
}

// Each step waits for an event; a regression that stops one from happening fails at this bound.
const BOUND = { timeout: 30_000 };

void t.test('endpoints follow DNS: two, then three, then one; no call fails', BOUND, async (t) => {
  const [b1, b2, b3] = await threeBackendsOnOnePort(t);
  const port = b1.port;
  const key = (host: string): string => `${host}:${port}`;
  const dns = await startDnsServer(NAME, ['127.0.0.1', '127.0.0.2']);
  t.teardown(() => dns.close());
  const resolver = new dnsPromises.Resolver({ timeout: 2000, tries: 2 });
  resolver.setServers([dns.address]);

  const config = proxyConfig([], {
    cluster: { endpoints: [{ dns: `${NAME}:${port}`, refresh: '100ms' }] },
  });
  const { proxy, address } = await startProxy(t, config, { resolver });
  const client = connectClient(t, address);
  const cluster = proxy.cluster(CLUSTER_NAME);
  if (cluster === undefined) throw new Error('no cluster');

  // Ready means resolved: the first calls already spread over both.
  t.same(cluster.memberKeys, [key('127.0.0.1'), key('127.0.0.2')], 'first lookup done at start');
  t.same(tally(await callMany(client, 20)), { b1: 10, b2: 10 });
  t.equal(b3.calls, 0);

  // Two → three, under a stream of calls.
  const growing = callStream(client, 4);
  const b3Called = once(b3.events, 'call');
  dns.addresses = ['127.0.0.1', '127.0.0.2', '127.0.0.3'];
  await b3Called;
  const b3Before = b3.calls;
  while (b3.calls < b3Before + 10) await once(b3.events, 'call');
  await growing.stop();
  t.same(growing.failures, [], 'no call failed while b3 joined');
  t.same(cluster.memberKeys, [key('127.0.0.1'), key('127.0.0.2'), key('127.0.0.3')]);
  t.ok(growing.servedBy.includes('b3'), 'b3 serves calls');

  // A long call in flight on a backend that is about to be removed.
  const openCalls = [];
  let long: ReturnType<EchoClient['bidi']> | undefined;
  let longBackend = '';
  for (let i = 0; i < 6 && long === undefined; i++) {
    const call = client.bidi();
    call.write({ message: 'hello' });
    const { backend } = await nextReply(call);
    if (backend === 'b1') openCalls.push(call);
    else {
      long = call;
      longBackend = backend;
    }
  }
  for (const call of openCalls) {
    call.end();
    await collect(call);
  }
  if (long === undefined) throw new Error('no bidi call landed on b2 or b3');
  const longKey = key(longBackend === 'b2' ? '127.0.0.2' : '127.0.0.3');
  const drainedKeys: string[] = [];
  cluster.events.on('drained', (k) => drainedKeys.push(k));

  // Three → one, under a stream of calls.
  const shrinking = callStream(client, 4);
  dns.addresses = ['127.0.0.1'];
  await membersBecome(cluster, [key('127.0.0.1')]);
  const [b2After, b3After] = [b2.calls, b3.calls];
  const b1Before = b1.calls;
  while (b1.calls < b1Before + 20) await once(b1.events, 'call');
  await shrinking.stop();
  t.same(shrinking.failures, [], 'no call failed while b2 and b3 left');
  // Calls picked before the member list changed may still reach b2 or b3
  // after it (at most one per concurrent caller: 4); none picked later may.
  // Counted from here, after 20 calls on b1, b2 and b3 see nothing new.
  const late = b2.calls + b3.calls - (b2After + b3After);
  t.ok(late <= 4, `at most the 4 calls picked before the removal reached b2 or b3 (${late})`);
  const [b2Settled, b3Settled] = [b2.calls, b3.calls];
  const b1Settled = b1.calls;
  const settling = callStream(client, 4);
  while (b1.calls < b1Settled + 20) await once(b1.events, 'call');
  await settling.stop();
  t.same(settling.failures, [], 'no call failed after b2 and b3 left');
  t.same([b2.calls, b3.calls], [b2Settled, b3Settled], 'after removal, b2 and b3 get no calls');
  t.same(tally(await callMany(client, 20)), { b1: 20 }, 'every call goes to b1');
  t.notOk(drainedKeys.includes(longKey), 'the backend with a call in flight is not closed yet');

  // The long call still works, and ends OK; then its backend's pool closes.
  const drained = new Promise<void>((resolve) => {
    cluster.events.on('drained', (k) => {
      if (k === longKey) resolve();
    });
  });
  long.write({ message: 'still there?' });
  t.equal((await nextReply(long)).backend, longBackend, 'the long call keeps its backend');
  long.end();
  const result = await collect(long);
  t.equal(result.status.code, 0, 'the long call completes OK');
  await drained;
  t.ok(drainedKeys.includes(longKey), 'its endpoint drained once the call ended');
});

void t.test('a failed or empty lookup keeps the endpoints', BOUND, async (t) => {
  const [b1] = await threeBackendsOnOnePort(t);
  const dns = await startDnsServer(NAME, ['127.0.0.1']);
  t.teardown(() => dns.close());
  const resolver = new dnsPromises.Resolver({ timeout: 500, tries: 1 });
  resolver.setServers([dns.address]);
  const config = proxyConfig([], {
    cluster: { endpoints: [{ dns: `${NAME}:${b1.port}`, refresh: '100ms' }] },
  });
  const { proxy, address } = await startProxy(t, config, { resolver });
  const client = connectClient(t, address);
  const cluster = proxy.cluster(CLUSTER_NAME);
  if (cluster === undefined) throw new Error('no cluster');

  dns.failing = true;
  // A lookup is two queries (A, AAAA) and the next starts only after it was
  // applied: six queries answered since the switch include a whole failed
  // lookup that was applied.
  await queries(dns, 6);
  t.same(cluster.memberKeys, [`127.0.0.1:${b1.port}`], 'SERVFAIL keeps the last good set');
  t.equal((await client.unary({ message: 'x' })).reply.backend, 'b1');

  dns.failing = false;
  dns.addresses = [];
  await queries(dns, 6);
  t.same(cluster.memberKeys, [`127.0.0.1:${b1.port}`], 'no records keeps the last good set');
  t.equal((await client.unary({ message: 'y' })).reply.backend, 'b1');
});

void t.test(
  'a DNS server that does not answer: start is bounded, then endpoints join',
  BOUND,
  async (t) => {
    const [b1] = await threeBackendsOnOnePort(t);
    const dns = await startDnsServer(NAME, ['127.0.0.1']);
    t.teardown(() => dns.close());
    dns.silent = true;
    // c-ares sends the query again after `timeout` (growing per try), so a late answer is picked up.
    const resolver = new dnsPromises.Resolver({ timeout: 300, tries: 4 });
    resolver.setServers([dns.address]);
    const config = proxyConfig([], {
      cluster: { endpoints: [{ dns: `${NAME}:${b1.port}`, refresh: '100ms' }] },
    });
    const queried = once(dns.events, 'query');
    const { proxy, address } = await startProxy(t, config, { resolver, discoveryTimeoutMs: 100 });
    await queried;
    const client = connectClient(t, address);
    const cluster = proxy.cluster(CLUSTER_NAME);
    if (cluster === undefined) throw new Error('no cluster');
    t.same(cluster.memberKeys, [], 'started without endpoints');
    const error = await serviceError(client.unary({ message: 'early' }));
    t.equal(error.code, grpc.status.UNAVAILABLE, 'calls fail UNAVAILABLE meanwhile');

    dns.silent = false;
    await membersBecome(cluster, [`127.0.0.1:${b1.port}`]);
    t.equal((await client.unary({ message: 'late' })).reply.backend, 'b1', 'then calls flow');
  },
);
