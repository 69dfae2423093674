// Reload on file change: a write that moves the route to another cluster is
// picked up within 1 s, and so is a Kubernetes ConfigMap-style update
// (config.yaml -> ..data/config.yaml, `..data` a symlink swapped by rename).
import { mkdir, rename, rm, symlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import t from 'tap';
import { stringify } from 'yaml';
import type { Config } from '../../src/config/schema.js';
import type { EchoClient } from '../helpers/echo-client.js';
import { connectClient, startBackends } from '../helpers/harness.js';
import { proxyConfig } from '../helpers/proxy.js';
import {
  adminRequest,
  configHash,
  startFileProxy,
  tempDir,
  waitForNewHash,
  writeConfig,
} from '../helpers/reload.js';

/** Clusters `echo` (b1) and `other` (b2); the route goes to `routeTo`. */
function twoClusters(b1: string, b2: string, routeTo: 'echo' | 'other'): Config {
  return proxyConfig([b1], {
    route: { cluster: routeTo },
    config: {
      admin: { address: '127.0.0.1:0' },
      clusters: [
        { name: 'echo', endpoints: [b1] },
        { name: 'other', endpoints: [b2] },
      ],
    },
  });
}

async function backendsOf(client: EchoClient, calls: number): Promise<string[]> {
  const seen: string[] = [];
  for (let i = 0; i < calls; i++)
    seen.push((await client.unary({ message: `${i}` })).reply.backend);
  return seen;
}

void t.test('a file write that moves the route is picked up within 1 s', async (t) => {
  const [b1, b2] = await startBackends(t, ['b1', 'b2']);
  if (b1 === undefined || b2 === undefined) throw new Error('two backends');
  const path = join(await tempDir(t), 'config.yaml');
  await writeConfig(path, twoClusters(b1.address, b2.address, 'echo'));
  const running = await startFileProxy(t, path, { watchConfig: true, reloadDebounceMs: 20 });
  const client = connectClient(t, running.address);
  t.same(await backendsOf(client, 3), ['b1', 'b1', 'b1']);

  const before = await configHash(running.admin);
  // Written in place (not renamed), as `echo ... > config.yaml` would.
  await writeFile(path, stringify(twoClusters(b1.address, b2.address, 'other')));
  const after = await waitForNewHash(running.admin, before, 1_000);
  t.not(after, before);
  t.same(await backendsOf(client, 20), Array<string>(20).fill('b2'), 'every later call');
  const metrics = await adminRequest(running.admin, '/metrics');
  t.match(metrics.body, /^switchyard_config_reloads_total\{result="applied"\} 1$/m);
  t.match(metrics.body, /^switchyard_config_last_reload_success_timestamp_seconds \d/m);
});

void t.test('a ConfigMap-style symlink swap is picked up', async (t) => {
  const [b1, b2] = await startBackends(t, ['b1', 'b2']);
  if (b1 === undefined || b2 === undefined) throw new Error('two backends');
  const dir = await tempDir(t);
  // What the kubelet lays out: a timestamped directory, `..data` pointing at
  // it, and the visible file a symlink through `..data`.
  const version = async (name: string, config: Config): Promise<void> => {
    await mkdir(join(dir, name));
    await writeFile(join(dir, name, 'config.yaml'), stringify(config));
  };
  await version('..2026_01_01_00_00_00.1', twoClusters(b1.address, b2.address, 'echo'));
  await symlink('..2026_01_01_00_00_00.1', join(dir, '..data'));
  await symlink('..data/config.yaml', join(dir, 'config.yaml'));
  const running = await startFileProxy(t, join(dir, 'config.yaml'), {
    watchConfig: true,
    reloadDebounceMs: 20,
  });
  const client = connectClient(t, running.address);
  t.same(await backendsOf(client, 2), ['b1', 'b1']);
  const before = await configHash(running.admin);

  // The update: new directory, a new symlink renamed over `..data`, old directory removed.
  await version('..2026_01_01_00_01_00.2', twoClusters(b1.address, b2.address, 'other'));
  await symlink('..2026_01_01_00_01_00.2', join(dir, '..data_tmp'));
  await rename(join(dir, '..data_tmp'), join(dir, '..data'));
  await rm(join(dir, '..2026_01_01_00_00_00.1'), { recursive: true });

  await waitForNewHash(running.admin, before, 1_000);
  t.same(await backendsOf(client, 10), Array<string>(10).fill('b2'));
});
