// The reload's pure parts: debounce, the listener plan, which clusters a
// reload keeps, /config redaction, and the reloader's hash check, refusals
// and one-at-a-time order (on a real temporary file, with a fake apply).
import { join } from 'node:path';
import { mock } from 'node:test';
import { Registry } from 'prom-client';
import t from 'tap';
import { configView, REDACTED } from '../../src/admin/config-view.js';
import { ApplyError } from '../../src/app/apply-error.js';
import { ConfigReloader } from '../../src/app/config-reloader.js';
import { loadConfigSource } from '../../src/app/config-source.js';
import { Debouncer } from '../../src/app/debounce.js';
import { planListeners } from '../../src/app/listener-plan.js';
import { reconcileClusters, shareEndpoints } from '../../src/app/reconcile-clusters.js';
import { sameConfig } from '../../src/app/same-config.js';
import type { ClusterConfig, Config } from '../../src/config/schema.js';
import { silentLogger } from '../../src/log/logger.js';
import { ReloadMetrics } from '../../src/metrics/reload-metrics.js';
import { Cluster } from '../../src/upstream/cluster.js';
import { proxyConfig } from '../helpers/proxy.js';
import { tempDir, writeConfig } from '../helpers/reload.js';

void t.test('Debouncer: one call per burst, after the quiet period', (t) => {
  mock.timers.enable({ apis: ['setTimeout'] });
  t.teardown(() => mock.timers.reset());
  let calls = 0;
  const debouncer = new Debouncer(100, () => calls++);
  debouncer.trigger();
  mock.timers.tick(60);
  debouncer.trigger();
  mock.timers.tick(60);
  debouncer.trigger();
  t.equal(calls, 0, 'not while events keep coming');
  t.ok(debouncer.pending);
  mock.timers.tick(100);
  t.equal(calls, 1, 'once after the burst');
  t.notOk(debouncer.pending);
  debouncer.trigger();
  debouncer.cancel();
  mock.timers.tick(200);
  t.equal(calls, 1, 'cancelled');
  t.end();
});

void t.test('sameConfig ignores key order only', (t) => {
  t.ok(sameConfig({ a: 1, b: { c: [1, 2] } }, { b: { c: [1, 2] }, a: 1 }));
  t.notOk(sameConfig({ a: [1, 2] }, { a: [2, 1] }));
  t.notOk(sameConfig({ a: 1 }, { a: 1, b: undefined, c: 2 }));
  t.end();
});

void t.test('planListeners: keep, open, rebind, close', (t) => {
  const running: Config = proxyConfig(['127.0.0.1:1'], {
    config: {
      listeners: [
        { name: 'same', address: '127.0.0.1:8001' },
        { name: 'moved', address: '127.0.0.1:8002' },
        { name: 'tuned', address: '127.0.0.1:8003' },
        { name: 'gone', address: '127.0.0.1:8004' },
        { name: 'any-port', address: '127.0.0.1:0' },
      ],
    },
  });
  const next: Config = {
    ...running,
    listeners: [
      { name: 'same', address: '127.0.0.1:8001' },
      { name: 'moved', address: '127.0.0.1:9002' },
      { name: 'tuned', address: '127.0.0.1:8003', x_forwarded_for: 'off' },
      { name: 'any-port', address: '127.0.0.1:0', health_service: false },
      { name: 'new', address: '127.0.0.1:8005' },
    ],
  };
  const plan = planListeners(running, next);
  t.same(plan.keep, ['same']);
  t.same(
    plan.open.map((o) => [o.index, o.config.name]),
    [
      [1, 'moved'],
      [3, 'any-port'],
      [4, 'new'],
    ],
  );
  t.same(
    plan.rebind.map((o) => o.config.name),
    ['tuned'],
  );
  t.same(plan.close, ['moved', 'any-port', 'gone']);
  t.end();
});

void t.test('reconcileClusters keeps unchanged clusters, rebuilds changed ones', (t) => {
  const logger = silentLogger();
  const running: Config = proxyConfig(['127.0.0.1:1'], {
    config: {
      clusters: [
        { name: 'kept', endpoints: ['127.0.0.1:1'] },
        { name: 'changed', endpoints: ['127.0.0.1:2'] },
        { name: 'removed', endpoints: ['127.0.0.1:3'] },
      ],
    },
  });
  const clusters = new Map(running.clusters.map((c) => [c.name, new Cluster(c, logger)]));
  const next: Config = {
    ...running,
    clusters: [
      { name: 'changed', endpoints: ['127.0.0.1:2', '127.0.0.1:5'], lb_policy: 'random' },
      { endpoints: ['127.0.0.1:1'], name: 'kept' },
      { name: 'added', endpoints: ['127.0.0.1:4'] },
    ],
  };
  const plan = reconcileClusters(
    { config: running, clusters },
    next,
    (c, adopt) => new Cluster(c, logger, adopt),
  );
  t.teardown(() => Promise.all([...clusters.values(), ...plan.added].map((c) => c.close())));
  t.equal(plan.clusters.get('kept'), clusters.get('kept'));
  t.not(plan.clusters.get('changed'), clusters.get('changed'));
  t.same(
    plan.added.map((c) => c.name),
    ['changed', 'added'],
  );
  t.same(
    plan.retired.map((r) => r.cluster.name),
    ['changed', 'removed'],
  );
  const oldEndpoint = clusters.get('changed')?.endpoints[0];
  const taken = plan.clusters.get('changed')?.endpoints;
  t.equal(taken?.[0], oldEndpoint, 'the endpoint at an address both have is taken over');
  t.equal(taken?.[1]?.address, '127.0.0.1:5');
  const retired = plan.commit();
  t.same(
    retired.map((r) => [r.cluster.name, [...r.handedOver].map((e) => e.address)]),
    [
      ['changed', ['127.0.0.1:2']],
      ['removed', []],
    ],
  );
  t.end();
});

void t.test('shareEndpoints: only when connection and health settings stay', (t) => {
  const base: ClusterConfig = { name: 'c', endpoints: ['127.0.0.1:1'] };
  t.ok(shareEndpoints(base, { ...base, lb_policy: 'random', endpoints: ['127.0.0.1:2'] }));
  t.ok(shareEndpoints(base, { ...base, circuit_breaker: { max_requests: 5 } }));
  t.notOk(shareEndpoints(base, { ...base, connect_timeout: '1s' }));
  t.notOk(shareEndpoints(base, { ...base, idle_timeout: '1m' }));
  t.notOk(shareEndpoints(base, { ...base, health_check: { tcp: {} } }));
  t.notOk(shareEndpoints(base, { ...base, outlier_detection: {} }));
  t.end();
});

void t.test('configView redacts every tls.key', (t) => {
  const config = proxyConfig(['127.0.0.1:1'], {
    listener: { tls: { cert: '/etc/tls/cert.pem', key: '/etc/tls/key.pem' } },
  });
  const view = configView({ path: 'c.yaml', hash: 'abc', loadedAt: new Date(0), config });
  t.equal(view.loaded_at, '1970-01-01T00:00:00.000Z');
  t.match(view.config, { listeners: [{ tls: { cert: '/etc/tls/cert.pem', key: REDACTED } }] });
  t.notMatch(JSON.stringify(view), /key\.pem/);
  t.end();
});

void t.test('ConfigReloader: hash no-op, refusals, one reload at a time', async (t) => {
  const path = join(await tempDir(t), 'config.yaml');
  const first = proxyConfig(['127.0.0.1:1']);
  await writeConfig(path, first);
  const registry = new Registry();
  const applied: Config[] = [];
  let refuseNext = false;
  let active = 0;
  let overlapped = false;
  const reloader = new ConfigReloader({
    initial: await loadConfigSource(path),
    apply: async (config) => {
      active++;
      if (active > 1) overlapped = true;
      await new Promise((resolve) => setImmediate(resolve));
      active--;
      if (refuseNext) {
        refuseNext = false;
        throw new ApplyError([
          { path: ['listeners', 0, 'address'], at: 'value', message: 'cannot bind' },
        ]);
      }
      applied.push(config);
    },
    metrics: new ReloadMetrics(registry),
    logger: silentLogger(),
  });
  const initialHash = reloader.running.hash;
  t.match(await reloader.reload('test'), { result: 'unchanged', hash: initialHash });

  await writeConfig(path, proxyConfig(['127.0.0.1:2']));
  const [a, b] = await Promise.all([reloader.reload('one'), reloader.reload('two')]);
  t.equal(a.result, 'applied');
  t.equal(b.result, 'unchanged', 'the second saw the first one applied');
  t.notOk(overlapped, 'never two applies at once');
  t.equal(applied.length, 1);
  t.not(reloader.running.hash, initialHash);

  refuseNext = true;
  await writeConfig(path, proxyConfig(['127.0.0.1:3']));
  const refused = await reloader.reload('bind');
  t.same(refused, {
    result: 'refused',
    errors: [`${path}:3:14 listeners[0].address: cannot bind`],
  });
  t.equal(applied.length, 1);

  await writeConfig(path, 'listeners: [\n');
  const broken = await reloader.reload('yaml');
  t.equal(broken.result, 'refused');
  t.match(broken.result === 'refused' ? broken.errors[0] : '', /config\.yaml:\d+:\d+ invalid YAML/);

  const metrics = await registry.metrics();
  t.match(metrics, /^switchyard_config_reload_failures_total 2$/m);
  t.match(metrics, /^switchyard_config_reloads_total\{result="applied"\} 1$/m);
  t.match(metrics, /^switchyard_config_reloads_total\{result="unchanged"\} 2$/m);
});
