// Hot reload through admin POST /reload: streams open across a reload finish
// on the snapshot they started with; 50 reloads in a row lose no call; a bad
// config or an unbindable listener is refused with positions and the running
// config keeps serving; an unchanged file is a no-op; listeners come and go.
import net from 'node:net';
import { join } from 'node:path';
import t from 'tap';
import type { Config } from '../../src/config/schema.js';
import type { TestContext } from '../helpers/context.js';
import { startEchoBackend } from '../helpers/echo-backend.js';
import { collect, nextReply } from '../helpers/echo-client.js';
import { connectClient, startBackends } from '../helpers/harness.js';
import { HealthControl } from '../helpers/health-backend.js';
import { proxyConfig } from '../helpers/proxy.js';
import {
  adminRequest,
  configHash,
  startFileProxy,
  tempDir,
  writeConfig,
  type FileProxy,
} from '../helpers/reload.js';
import { testPki } from '../helpers/test-certs.js';

const PKI = testPki();

/** The harness config (listener main, route echo, cluster echo) with an admin endpoint. */
function fileConfig(backends: readonly string[], overrides: Partial<Config> = {}): Config {
  return proxyConfig(backends, { config: { admin: { address: '127.0.0.1:0' }, ...overrides } });
}

async function reloadableProxy(
  t: TestContext,
  config: Config,
): Promise<FileProxy & { readonly path: string }> {
  const path = join(await tempDir(t), 'config.yaml');
  await writeConfig(path, config);
  return { ...(await startFileProxy(t, path)), path };
}

void t.test('a bidi stream open across a reload keeps exchanging and ends OK', async (t) => {
  const [b1, b2] = await startBackends(t, ['b1', 'b2']);
  if (b1 === undefined || b2 === undefined) throw new Error('two backends');
  const running = await reloadableProxy(t, fileConfig([b1.address]));
  const client = connectClient(t, running.address);

  const call = client.bidi();
  call.write({ message: 'before' });
  t.equal((await nextReply(call)).backend, 'b1');

  // The cluster's endpoints change: a new cluster serves new calls, the old one drains.
  await writeConfig(running.path, fileConfig([b2.address]));
  const reload = await adminRequest(running.admin, '/reload', 'POST');
  t.equal(reload.status, 200);
  t.match(reload.body, /^reloaded [0-9a-f]{64}\n$/);

  t.equal((await client.unary({ message: 'new call' })).reply.backend, 'b2');
  for (const message of ['after', 'and again']) {
    call.write({ message });
    const reply = await nextReply(call);
    t.equal(reply.message, message);
    t.equal(reply.backend, 'b1', 'the stream stays on the snapshot it started with');
  }
  call.end();
  const result = await collect(call);
  t.equal(result.status.code, 0);
});

void t.test('50 reloads in a row lose no call', async (t) => {
  const [b1, b2] = await startBackends(t, ['b1', 'b2']);
  if (b1 === undefined || b2 === undefined) throw new Error('two backends');
  // Both the route and the cluster change every time: each reload builds a new cluster.
  const configs = [
    fileConfig([b1.address, b2.address]),
    proxyConfig([b2.address, b1.address], {
      route: { timeout: '29s' },
      cluster: { lb_policy: 'random' },
      config: { admin: { address: '127.0.0.1:0' } },
    }),
  ];
  const first = configs[0];
  if (first === undefined) throw new Error('configs');
  const running = await reloadableProxy(t, first);
  const client = connectClient(t, running.address);

  let stop = false;
  let calls = 0;
  const failures: string[] = [];
  // Two callers keep a call in flight at all times while the reloads run.
  const caller = async (): Promise<void> => {
    while (!stop) {
      try {
        await client.unary({ message: 'x' });
        calls++;
      } catch (error) {
        failures.push(String(error));
      }
    }
  };
  const callers = [caller(), caller()];
  const results: string[] = [];
  for (let i = 1; i <= 50; i++) {
    const config = configs[i % 2];
    if (config === undefined) throw new Error('configs');
    await writeConfig(running.path, config);
    const inFlight = Array.from({ length: 4 }, () => client.unary({ message: `r${i}` }));
    const reload = await adminRequest(running.admin, '/reload', 'POST');
    results.push(`${reload.status} ${reload.body.split(' ')[0] ?? ''}`);
    for (const outcome of await Promise.allSettled(inFlight)) {
      if (outcome.status === 'fulfilled') calls++;
      else failures.push(String(outcome.reason));
    }
  }
  stop = true;
  await Promise.all(callers);
  t.same(new Set(results), new Set(['200 reloaded']), 'every reload applied');
  t.same(failures, [], 'no call failed');
  t.ok(calls >= 200, `${calls} calls made`);
});

void t.test('a config with an error is refused and the proxy keeps serving', async (t) => {
  const [b1] = await startBackends(t, ['b1']);
  if (b1 === undefined) throw new Error('backend');
  const running = await reloadableProxy(t, fileConfig([b1.address]));
  const client = connectClient(t, running.address);
  const before = await configHash(running.admin);

  const lines = [
    'admin: { address: 127.0.0.1:0 }',
    'listeners:',
    '  - { name: main, address: 127.0.0.1:0 }',
    'routes:',
    '  - { name: echo, match: { service: switchyard.test.Echo }, cluster: nowhere }',
    'clusters:',
    `  - { name: echo, endpoints: ["${b1.address}"], lb_polcy: random }`,
    '',
  ];
  await writeConfig(running.path, lines.join('\n'));
  const col = (line: number, text: string): number => (lines[line - 1] ?? '').indexOf(text) + 1;
  const reload = await adminRequest(running.admin, '/reload', 'POST');
  t.equal(reload.status, 400);
  t.same(reload.body.trim().split('\n'), [
    `${running.path}:5:${col(5, 'nowhere')} routes[0].cluster: unknown cluster "nowhere"; clusters are: echo`,
    `${running.path}:7:${col(7, 'lb_polcy')} clusters[0].lb_polcy: unknown key "lb_polcy" (did you mean "lb_policy"?)`,
  ]);
  t.equal(await configHash(running.admin), before, 'the running config stays');
  t.equal((await client.unary({ message: 'still here' })).reply.backend, 'b1');
  const metrics = await adminRequest(running.admin, '/metrics');
  t.match(metrics.body, /^switchyard_config_reload_failures_total 1$/m);
  t.match(metrics.body, /^switchyard_config_reloads_total\{result="refused"\} 1$/m);
});

void t.test('a listener that cannot bind refuses the reload; the old one serves', async (t) => {
  const [b1] = await startBackends(t, ['b1']);
  if (b1 === undefined) throw new Error('backend');
  const running = await reloadableProxy(t, fileConfig([b1.address]));
  const client = connectClient(t, running.address);
  const before = await configHash(running.admin);

  const squatter = net.createServer();
  await new Promise<void>((resolve) => squatter.listen(0, '127.0.0.1', resolve));
  t.teardown(() => new Promise<void>((resolve) => squatter.close(() => resolve())));
  const address = squatter.address();
  if (address === null || typeof address === 'string') throw new Error('no TCP address');
  const taken = `127.0.0.1:${address.port}`;

  await writeConfig(
    running.path,
    proxyConfig([b1.address], {
      listener: { address: taken },
      config: { admin: { address: '127.0.0.1:0' } },
    }),
  );
  const reload = await adminRequest(running.admin, '/reload', 'POST');
  t.equal(reload.status, 400);
  t.match(
    reload.body,
    new RegExp(
      `^${running.path}:\\d+:\\d+ listeners\\[0\\]\\.address: listener main cannot bind ${taken}: .*EADDRINUSE`,
    ),
  );
  t.equal(await configHash(running.admin), before);
  t.equal(`127.0.0.1:${running.proxy.listenerAddress('main').port}`, running.address);
  t.equal((await client.unary({ message: 'old listener' })).reply.backend, 'b1');
  const fresh = connectClient(t, running.address);
  t.equal((await fresh.unary({ message: 'new connection' })).reply.backend, 'b1');
  const metrics = await adminRequest(running.admin, '/metrics');
  t.match(metrics.body, /^switchyard_config_reload_failures_total 1$/m);
});

void t.test('reloading an unchanged file is a no-op', async (t) => {
  const [b1] = await startBackends(t, ['b1']);
  if (b1 === undefined) throw new Error('backend');
  const running = await reloadableProxy(t, fileConfig([b1.address]));
  const hash = await configHash(running.admin);
  const cluster = running.proxy.cluster('echo');
  const reload = await adminRequest(running.admin, '/reload', 'POST');
  t.equal(reload.status, 200);
  t.equal(reload.body, `unchanged ${hash}\n`);
  t.equal(running.proxy.cluster('echo'), cluster, 'same Cluster object');
  const metrics = await adminRequest(running.admin, '/metrics');
  t.match(metrics.body, /^switchyard_config_reloads_total\{result="unchanged"\} 1$/m);
  t.match(metrics.body, /^switchyard_config_reload_failures_total 0$/m);
});

void t.test('an unchanged cluster keeps its Cluster and endpoints', async (t) => {
  const [b1, b2] = await startBackends(t, ['b1', 'b2']);
  if (b1 === undefined || b2 === undefined) throw new Error('two backends');
  const other = { name: 'other', endpoints: [b2.address] };
  const running = await reloadableProxy(t, fileConfig([b1.address], {}));
  const cluster = running.proxy.cluster('echo');
  const endpoints = cluster?.endpoints;
  await writeConfig(
    running.path,
    proxyConfig([b1.address], {
      route: { timeout: '10s' },
      config: {
        admin: { address: '127.0.0.1:0' },
        clusters: [{ name: 'echo', endpoints: [b1.address] }, other],
      },
    }),
  );
  t.equal((await adminRequest(running.admin, '/reload', 'POST')).status, 200);
  t.equal(running.proxy.cluster('echo'), cluster);
  t.same(running.proxy.cluster('echo')?.endpoints, endpoints);
  t.ok(running.proxy.cluster('other'));
});

void t.test('listeners added and removed by reloads', async (t) => {
  const [b1] = await startBackends(t, ['b1']);
  if (b1 === undefined) throw new Error('backend');
  const base = fileConfig([b1.address]);
  const running = await reloadableProxy(t, base);
  const extra = {
    name: 'extra',
    address: '127.0.0.1:0',
    tls: { cert: PKI.server.certPath, key: PKI.server.keyPath },
  };
  await writeConfig(running.path, { ...base, listeners: [...base.listeners, extra] });
  t.equal((await adminRequest(running.admin, '/reload', 'POST')).status, 200);
  t.equal(running.proxy.listenerAddress('main').port.toString(), running.address.split(':')[1]);
  t.ok(running.proxy.listenerAddress('extra').port > 0, 'extra listener bound');

  const view = await adminRequest(running.admin, '/config');
  t.notOk(view.body.includes(PKI.server.keyPath), 'the TLS key path is redacted');
  t.match(view.body, /"key": "\[redacted\]"/);
  t.ok(view.body.includes(PKI.server.certPath), 'the certificate path is shown');

  await writeConfig(running.path, base);
  t.equal((await adminRequest(running.admin, '/reload', 'POST')).status, 200);
  t.throws(() => running.proxy.listenerAddress('extra'), /no listener named extra/);
  const client = connectClient(t, running.address);
  t.equal((await client.unary({ message: 'main stays' })).reply.backend, 'b1');
});

void t.test('a changed cluster takes over the endpoints whose address stays', async (t) => {
  const [b1, b2] = await startBackends(t, ['b1', 'b2']);
  if (b1 === undefined || b2 === undefined) throw new Error('two backends');
  const running = await reloadableProxy(t, fileConfig([b1.address]));
  const client = connectClient(t, running.address);
  t.equal((await client.unary({ message: 'warm' })).reply.backend, 'b1');
  const before = running.proxy.cluster('echo');
  const endpoint = before?.endpoints[0];
  t.equal(endpoint?.pool.sessionsOpened, 1);

  // The balancing and the endpoint list change; the connection settings do not.
  await writeConfig(
    running.path,
    proxyConfig([b1.address, b2.address], {
      cluster: { lb_policy: 'random' },
      config: { admin: { address: '127.0.0.1:0' } },
    }),
  );
  t.equal((await adminRequest(running.admin, '/reload', 'POST')).status, 200);
  const after = running.proxy.cluster('echo');
  t.not(after, before, 'a new Cluster');
  t.equal(after?.endpoints[0], endpoint, 'the same Endpoint for b1');
  t.equal(after?.limits.connections.inFlight, 1, "b1's connection counts in the new cluster");
  t.equal(before?.limits.connections.inFlight, 0, 'and no longer in the old one');
  const seen = new Set<string>();
  for (let i = 0; i < 40 && seen.size < 2; i++)
    seen.add((await client.unary({ message: `${i}` })).reply.backend);
  t.same([...seen].sort(), ['b1', 'b2']);
  t.equal(endpoint?.pool.sessionsOpened, 1, 'b1 kept its connection');

  // A connection setting changes: new endpoints, and calls still succeed.
  await writeConfig(
    running.path,
    proxyConfig([b1.address, b2.address], {
      cluster: { lb_policy: 'random', connect_timeout: '2s' },
      config: { admin: { address: '127.0.0.1:0' } },
    }),
  );
  t.equal((await adminRequest(running.admin, '/reload', 'POST')).status, 200);
  t.not(running.proxy.cluster('echo')?.endpoints[0], endpoint);
  t.ok((await client.unary({ message: 'after' })).reply.backend);
});

void t.test('health-checked endpoints taken over are not held out again', async (t) => {
  const health = [new HealthControl(), new HealthControl()];
  const backends = await Promise.all(
    health.map((control, i) => startEchoBackend(`b${String(i + 1)}`, { services: [control] })),
  );
  t.teardown(() => Promise.all(backends.map((b) => b.close())));
  const addresses = backends.map((b) => b.address);
  // Long interval: the running checks do not come round again during the test.
  const healthCheck = { grpc: {}, interval: '30s', timeout: '200ms' };
  const config = (lbPolicy: 'round_robin' | 'random'): Config =>
    proxyConfig(addresses, {
      cluster: { health_check: healthCheck, panic_threshold: 0, lb_policy: lbPolicy },
      config: { admin: { address: '127.0.0.1:0' } },
    });
  const running = await reloadableProxy(t, config('round_robin'));
  await running.proxy.whenHealthChecked();
  const client = connectClient(t, running.address);
  t.ok((await client.unary({ message: 'checked' })).reply.backend);
  const endpoints = running.proxy.cluster('echo')?.endpoints;

  // The new cluster's first checks time out; a held-out endpoint would stay out.
  for (const control of health) control.hold();
  await writeConfig(running.path, config('random'));
  const reload = adminRequest(running.admin, '/reload', 'POST');
  const during = await Promise.all(
    Array.from({ length: 10 }, (_, i) => client.unary({ message: `during ${String(i)}` })),
  );
  t.equal(during.length, 10, 'calls during the reload succeed');
  t.equal((await reload).status, 200);
  for (const control of health) control.release();
  t.same(running.proxy.cluster('echo')?.endpoints, endpoints, 'same Endpoint objects');
  t.same(
    running.proxy.cluster('echo')?.endpoints.map((e) => e.available),
    [true, true],
  );
  t.ok((await client.unary({ message: 'after' })).reply.backend);
});
