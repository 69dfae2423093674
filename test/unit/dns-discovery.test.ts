// DNS discovery without sockets: the membership diff, the "a failed or empty
// lookup keeps the last good set" rule, and a Cluster driven by a stub resolver
// (endpoints kept, joined and drained; the balancer swapped).
import { Writable } from 'node:stream';
import t from 'tap';
import type { ClusterConfig } from '../../src/config/schema.js';
import { DnsDiscovery } from '../../src/discovery/dns-discovery.js';
import { resolveEndpoints, type DnsResolver } from '../../src/discovery/dns-resolver.js';
import { diffMembership, nextAddresses } from '../../src/discovery/membership.js';
import { createLogger, silentLogger, type Logger } from '../../src/log/logger.js';
import { Cluster, type MembershipChange } from '../../src/upstream/cluster.js';

/** A resolver whose answers the test sets; an Error answer rejects the lookup. */
class StubResolver implements DnsResolver {
  v4: string[] | Error = [];
  v6: string[] | Error = noData();
  lookups = 0;

  resolve4(): Promise<string[]> {
    this.lookups++;
    return answer(this.v4);
  }

  resolve6(): Promise<string[]> {
    return answer(this.v6);
  }
}

function answer(value: string[] | Error): Promise<string[]> {
  return value instanceof Error ? Promise.reject(value) : Promise.resolve([...value]);
}

function dnsError(code: string): Error {
  return Object.assign(new Error(`query failed: ${code}`), { code });
}

const noData = (): Error => dnsError('ENODATA');

/** A logger whose JSON lines are kept in `lines`. */
function capturingLogger(): { logger: Logger; lines: Record<string, unknown>[] } {
  const lines: Record<string, unknown>[] = [];
  const destination = new Writable({
    write(chunk: Buffer, _encoding, callback) {
      for (const line of chunk.toString('utf8').split('\n')) {
        if (line.length === 0) continue;
        const parsed: unknown = JSON.parse(line);
        if (typeof parsed === 'object' && parsed !== null) lines.push({ ...parsed });
      }
      callback();
    },
  });
  // pino writes synchronously to a plain stream, so a line is in `lines` once the call returns.
  return { logger: createLogger({ level: 'warn', pretty: false, destination }), lines };
}

void t.test('diffMembership: kept keys in current order, joins and drains', (t) => {
  t.same(diffMembership(['a:1', 'b:1'], ['b:1', 'c:1', 'a:1']), {
    keep: ['a:1', 'b:1'],
    join: ['c:1'],
    drain: [],
  });
  t.same(diffMembership(['a:1', 'b:1', 'c:1'], ['c:1']), {
    keep: ['c:1'],
    join: [],
    drain: ['a:1', 'b:1'],
  });
  t.same(diffMembership([], ['a:1']), { keep: [], join: ['a:1'], drain: [] });
  t.same(diffMembership(['a:1'], ['b:1']), { keep: [], join: ['b:1'], drain: ['a:1'] });
  t.same(diffMembership(['a:1'], ['a:1']), { keep: ['a:1'], join: [], drain: [] });
  t.end();
});

void t.test('nextAddresses: records replace the set; failure and empty keep it', (t) => {
  const last = ['10.0.0.1:80'];
  t.same(nextAddresses(last, { kind: 'records', addresses: ['10.0.0.2:80'] }), ['10.0.0.2:80']);
  t.same(nextAddresses(last, { kind: 'empty' }), last);
  t.same(nextAddresses(last, { kind: 'failed', error: new Error('timeout') }), last);
  t.same(nextAddresses([], { kind: 'failed', error: new Error('timeout') }), []);
  t.end();
});

void t.test('resolveEndpoints: A and AAAA merged, sorted; no-records codes give []', async (t) => {
  const resolver = new StubResolver();
  resolver.v4 = ['10.0.0.2', '10.0.0.1', '10.0.0.2'];
  resolver.v6 = ['::1'];
  t.same(await resolveEndpoints(resolver, 'svc', 50051), [
    '10.0.0.1:50051',
    '10.0.0.2:50051',
    '[::1]:50051',
  ]);
  resolver.v6 = noData();
  t.same(await resolveEndpoints(resolver, 'svc', 80), ['10.0.0.1:80', '10.0.0.2:80']);
  resolver.v4 = dnsError('ENOTFOUND');
  resolver.v6 = dnsError('ENOTFOUND');
  t.same(await resolveEndpoints(resolver, 'svc', 80), [], 'NXDOMAIN is no records');
  resolver.v4 = ['10.0.0.1'];
  resolver.v6 = dnsError('ETIMEOUT');
  await t.rejects(
    resolveEndpoints(resolver, 'svc', 80),
    { code: 'ETIMEOUT' },
    'half an answer fails',
  );
});

void t.test(
  'DnsDiscovery: a failed or empty lookup keeps the last good set and warns',
  async (t) => {
    const resolver = new StubResolver();
    const { logger, lines } = capturingLogger();
    const changes: (readonly string[])[] = [];
    const discovery = new DnsDiscovery({
      host: 'svc.test',
      port: 80,
      refreshMs: 60_000,
      resolver,
      logger,
      onChange: (addresses) => changes.push(addresses),
    });
    t.teardown(() => {
      discovery.stop();
    });

    resolver.v4 = dnsError('ECONNREFUSED');
    t.equal((await discovery.refresh()).kind, 'failed');
    t.same(discovery.addresses, [], 'nothing known yet');
    t.same(changes, []);

    resolver.v4 = ['10.0.0.1', '10.0.0.2'];
    t.equal((await discovery.refresh()).kind, 'records');
    t.same(changes, [['10.0.0.1:80', '10.0.0.2:80']]);

    const warningsBefore = lines.length;
    resolver.v4 = dnsError('ETIMEOUT');
    t.equal((await discovery.refresh()).kind, 'failed');
    t.same(discovery.addresses, ['10.0.0.1:80', '10.0.0.2:80'], 'failure keeps the last set');
    const failure = lines[warningsBefore];
    t.match(failure, { level: 40, dns: 'svc.test:80', err: { message: /ETIMEOUT/ } });

    resolver.v4 = dnsError('ENOTFOUND');
    resolver.v6 = dnsError('ENOTFOUND');
    t.equal((await discovery.refresh()).kind, 'empty');
    t.same(discovery.addresses, ['10.0.0.1:80', '10.0.0.2:80'], 'NXDOMAIN keeps the last set');
    t.match(lines.at(-1), { level: 40, msg: /no A or AAAA records/ });
    t.equal(changes.length, 1, 'neither reported a change');

    resolver.v4 = ['10.0.0.2', '10.0.0.1'];
    resolver.v6 = noData();
    await discovery.refresh();
    t.equal(changes.length, 1, 'the same set in another order is no change');
    resolver.v4 = ['10.0.0.3'];
    await discovery.refresh();
    t.same(changes.at(-1), ['10.0.0.3:80']);
  },
);

void t.test('DnsDiscovery.start resolves after the first lookup; stop ends the loop', async (t) => {
  const resolver = new StubResolver();
  resolver.v4 = ['10.0.0.1'];
  const discovery = new DnsDiscovery({
    host: 'svc.test',
    port: 80,
    refreshMs: 60_000,
    resolver,
    logger: silentLogger(),
    onChange: () => undefined,
  });
  await discovery.start();
  t.same(discovery.addresses, ['10.0.0.1:80']);
  t.equal(resolver.lookups, 1);
  discovery.stop();
  t.equal(resolver.lookups, 1);
});

function dnsCluster(overrides: Partial<ClusterConfig> = {}): ClusterConfig {
  return {
    name: 'svc',
    endpoints: [{ dns: 'svc.test:80', refresh: '1m' }],
    ...overrides,
  };
}

void t.test(
  'Cluster: remaining endpoints keep their object, new ones join, vanished ones drain',
  async (t) => {
    const resolver = new StubResolver();
    resolver.v4 = ['10.0.0.1', '10.0.0.2'];
    const cluster = new Cluster(dnsCluster(), silentLogger(), { resolver });
    t.teardown(() => cluster.close());
    const changes: MembershipChange[] = [];
    cluster.events.on('membership', (change) => changes.push(change));
    const drained: string[] = [];
    cluster.events.on('drained', (key) => drained.push(key));

    t.same(cluster.memberKeys, [], 'no members before discovery');
    t.equal(cluster.balancer.pick({ headers: {} }), undefined);
    await cluster.startDiscovery();
    t.same(cluster.memberKeys, ['10.0.0.1:80', '10.0.0.2:80']);
    const [first, second] = cluster.endpoints;
    if (first === undefined || second === undefined) throw new Error('two endpoints expected');
    t.equal(first.address, '10.0.0.1:80');
    const oldBalancer = cluster.balancer;

    // Two calls in flight on 10.0.0.1, which is about to vanish.
    first.callStarted();
    first.callStarted();
    resolver.v4 = ['10.0.0.2', '10.0.0.3'];
    await discoveryRefresh(cluster, resolver);
    t.same(changes.at(-1), {
      added: ['10.0.0.3:80'],
      removed: ['10.0.0.1:80'],
      members: ['10.0.0.2:80', '10.0.0.3:80'],
    });
    t.not(cluster.balancer, oldBalancer, 'a new balancer over the new list');
    t.equal(cluster.endpoints[0], second, 'the remaining endpoint is the same object');
    t.equal(first.draining, true, 'the vanished one is draining');
    t.equal(first.available, false);
    const picked = new Set(
      Array.from({ length: 10 }, () => cluster.balancer.pick({ headers: {} })),
    );
    t.notOk(picked.has(first), 'never picked again');
    t.equal(picked.size, 2);

    first.callEnded();
    await settle();
    t.same(drained, [], 'still one call in flight: not closed');
    first.callEnded();
    await once(cluster, 'drained');
    t.same(drained, ['10.0.0.1:80'], 'closed once its last call ended');
  },
);

void t.test(
  'Cluster: a vanished endpoint that returns before draining finished is revived',
  async (t) => {
    const resolver = new StubResolver();
    resolver.v4 = ['10.0.0.1', '10.0.0.2'];
    const cluster = new Cluster(dnsCluster(), silentLogger(), { resolver });
    t.teardown(() => cluster.close());
    await cluster.startDiscovery();
    const first = cluster.endpoints[0];
    if (first === undefined) throw new Error('endpoint expected');
    first.callStarted();
    resolver.v4 = ['10.0.0.2'];
    await discoveryRefresh(cluster, resolver);
    t.equal(first.draining, true);
    resolver.v4 = ['10.0.0.1', '10.0.0.2'];
    await discoveryRefresh(cluster, resolver);
    t.equal(cluster.endpoints[1], first, 'the same Endpoint is back');
    t.equal(first.draining, false);
    t.equal(first.available, true);
    let drained = false;
    cluster.events.on('drained', () => {
      drained = true;
    });
    first.callEnded();
    await settle();
    t.equal(drained, false, 'the revived endpoint was not closed');
  },
);

void t.test('Cluster: a failed lookup changes nothing; fixed endpoints stay first', async (t) => {
  const resolver = new StubResolver();
  resolver.v4 = ['10.0.0.1'];
  const cluster = new Cluster(
    dnsCluster({ endpoints: ['10.0.0.9:80', { dns: 'svc.test:80', weight: 3 }] }),
    silentLogger(),
    { resolver },
  );
  t.teardown(() => cluster.close());
  await cluster.startDiscovery();
  t.same(cluster.memberKeys, ['10.0.0.9:80', '10.0.0.1:80']);
  const balancer = cluster.balancer;
  let changed = false;
  cluster.events.on('membership', () => {
    changed = true;
  });
  resolver.v4 = dnsError('ESERVFAIL');
  resolver.v6 = dnsError('ESERVFAIL');
  await discoveryRefresh(cluster, resolver);
  t.equal(changed, false);
  t.equal(cluster.balancer, balancer, 'the balancer is not swapped');
  t.same(cluster.memberKeys, ['10.0.0.9:80', '10.0.0.1:80']);
});

/** Runs one lookup now, the way the refresh timer would. */
async function discoveryRefresh(cluster: Cluster, resolver: StubResolver): Promise<void> {
  const before = resolver.lookups;
  await cluster.refreshDiscovery();
  if (resolver.lookups === before) throw new Error('no lookup ran');
}

/** Lets pending promise callbacks (a drain waiting for idle) run. */
function settle(): Promise<void> {
  return new Promise((resolve) => {
    setImmediate(resolve);
  });
}

function once(cluster: Cluster, event: 'drained'): Promise<void> {
  return new Promise((resolve) => {
    cluster.events.once(event, () => resolve());
  });
}
