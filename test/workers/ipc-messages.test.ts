// The IPC between primary and workers: what arrives is `unknown` and only
// well-formed messages come through; the workers' DNS answers are the
// primary's; the worker config drops admin and health checks.
import t from 'tap';
import { parseFromWorker, parseToWorker } from '../../src/workers/ipc-messages.js';
import { RecordingResolver, TableResolver } from '../../src/workers/dns-table.js';
import { workerConfig } from '../../src/workers/worker.js';
import type { DnsResolver } from '../../src/discovery/dns-resolver.js';
import type { DnsEntry } from '../../src/workers/ipc-messages.js';
import { proxyConfig } from '../helpers/proxy.js';

const config = proxyConfig(['127.0.0.1:1'], {
  cluster: { health_check: { grpc: {} } },
  config: { admin: { address: '127.0.0.1:0' } },
});

void t.test('messages to a worker: well-formed ones parse, others are dropped', (t) => {
  const init = {
    type: 'init',
    worker: 1,
    logLevel: 'info',
    logPretty: false,
    config,
    health: [{ cluster: 'echo', address: '127.0.0.1:1', healthy: true }],
    dns: [{ name: 'backend.test', family: 4, addresses: ['10.0.0.1'] }],
  };
  t.same(parseToWorker(init), init);
  t.same(parseToWorker({ type: 'health', cluster: 'c', address: 'a:1', healthy: false }), {
    type: 'health',
    cluster: 'c',
    address: 'a:1',
    healthy: false,
  });
  t.same(parseToWorker({ type: 'drain' }), { type: 'drain' });
  const bad: unknown[] = [
    null,
    'drain',
    [],
    { type: 'nope' },
    { ...init, config: { ...config, listeners: [] } },
    { ...init, logLevel: 'loud' },
    { ...init, worker: -1 },
    { ...init, health: [{ cluster: 'c', address: 'a', healthy: 'yes' }] },
    { ...init, dns: [{ name: 'n', family: 5, addresses: [] }] },
    { type: 'eject', cluster: 'c', address: 'a', durationMs: Number.NaN },
    { type: 'report', seq: 1, kind: 'everything' },
    { type: 'config', seq: 1.5, config, health: [], dns: [] },
    // prom-client's own cluster messages share the channel.
    { type: 'prom-client:getMetricsReq', requestId: 1 },
  ];
  for (const value of bad) t.equal(parseToWorker(value), undefined, JSON.stringify(value));
  t.end();
});

void t.test('messages from a worker: well-formed ones parse, others are dropped', (t) => {
  t.same(parseFromWorker({ type: 'applied', seq: 3, failure: null }), {
    type: 'applied',
    seq: 3,
    failure: null,
  });
  const failure = {
    message: 'cannot bind',
    issues: [{ path: ['listeners', 0, 'address'], at: 'value', message: 'cannot bind' }],
  };
  t.same(parseFromWorker({ type: 'applied', seq: 4, failure }), {
    type: 'applied',
    seq: 4,
    failure,
  });
  t.same(parseFromWorker({ type: 'report', seq: 1, body: [1, 2] }), {
    type: 'report',
    seq: 1,
    body: [1, 2],
  });
  const bad: unknown[] = [
    undefined,
    { type: 'applied', seq: 3 },
    { type: 'applied', seq: 3, failure: { message: 'x', issues: [{ path: [{}] }] } },
    { type: 'ejected', cluster: 'c', address: 'a', durationMs: -1 },
    { type: 'report', seq: 1 },
  ];
  for (const value of bad) t.equal(parseFromWorker(value), undefined, JSON.stringify(value));
  t.end();
});

void t.test('the worker config has no admin and no health checks', (t) => {
  const worker = workerConfig(config);
  t.equal(worker.admin, undefined);
  t.ok(worker.clusters.every((c) => c.health_check === undefined));
  t.ok(config.clusters[0]?.health_check !== undefined, 'the original is untouched');
  t.end();
});

void t.test('workers answer DNS lookups with the answers the primary got', async (t) => {
  const answers = new Map<string, string[] | Error>([
    ['a.test', ['10.0.0.1', '10.0.0.2']],
    ['gone.test', Object.assign(new Error('no'), { code: 'ENOTFOUND' })],
    ['broken.test', Object.assign(new Error('servfail'), { code: 'ESERVFAIL' })],
  ]);
  const inner: DnsResolver = {
    resolve4: (name) => {
      const answer = answers.get(name);
      return answer instanceof Error || answer === undefined
        ? Promise.reject(answer ?? new Error('unknown'))
        : Promise.resolve(answer);
    },
    resolve6: () => Promise.reject(Object.assign(new Error('no'), { code: 'ENODATA' })),
  };
  const reported: DnsEntry[] = [];
  const primary = new RecordingResolver((entry) => reported.push(entry), inner);
  t.same(await primary.resolve4('a.test'), ['10.0.0.1', '10.0.0.2']);
  await primary.resolve4('a.test');
  await t.rejects(primary.resolve4('gone.test'));
  await t.rejects(primary.resolve4('broken.test'));
  t.same(reported, [
    { name: 'a.test', family: 4, addresses: ['10.0.0.1', '10.0.0.2'] },
    { name: 'gone.test', family: 4, addresses: [] },
  ]);

  const worker = new TableResolver();
  for (const entry of primary.entries) worker.set(entry);
  t.same(await worker.resolve4('a.test'), ['10.0.0.1', '10.0.0.2']);
  t.same(await worker.resolve4('gone.test'), []);
  // Not answered by the primary yet: a failure discovery retries, not "no records".
  await t.rejects(worker.resolve4('broken.test'), { code: 'ENOTRESOLVED' });
});
