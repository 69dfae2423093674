// SIGHUP on the real `switchyard` process reloads its config file: here the
// file is a symlink into another directory, edited at its target, a change
// the directory watch does not see, so only the signal can pick it up. A bad
// file is refused with its position logged, and the process keeps serving.
import { mkdir, symlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import t from 'tap';
import { stringify } from 'yaml';
import type { Config } from '../../src/config/schema.js';
import { spawnSwitchyard } from '../helpers/cli-process.js';
import { connectClient, startBackends } from '../helpers/harness.js';
import { proxyConfig } from '../helpers/proxy.js';
import { tempDir } from '../helpers/reload.js';

function routedTo(b1: string, b2: string, cluster: 'echo' | 'other'): Config {
  return proxyConfig([b1], {
    route: { cluster },
    config: {
      admin: { address: '127.0.0.1:0' },
      clusters: [
        { name: 'echo', endpoints: [b1] },
        { name: 'other', endpoints: [b2] },
      ],
    },
  });
}

void t.test('SIGHUP reloads; a bad file is refused and logged with its position', async (t) => {
  const [b1, b2] = await startBackends(t, ['b1', 'b2']);
  if (b1 === undefined || b2 === undefined) throw new Error('two backends');
  const dir = await tempDir(t);
  await mkdir(join(dir, 'real'));
  await mkdir(join(dir, 'visible'));
  const target = join(dir, 'real', 'config.yaml');
  await writeFile(target, stringify(routedTo(b1.address, b2.address, 'echo')));
  await symlink(target, join(dir, 'visible', 'config.yaml'));
  const cli = await spawnSwitchyard(t, join(dir, 'visible', 'config.yaml'));
  const client = connectClient(t, cli.address);
  t.equal((await client.unary({ message: 'before' })).reply.backend, 'b1');

  await writeFile(target, stringify(routedTo(b1.address, b2.address, 'other')));
  cli.child.kill('SIGHUP');
  await cli.logged('config reloaded');
  t.equal((await client.unary({ message: 'after' })).reply.backend, 'b2');

  await writeFile(target, 'listeners: [\n');
  cli.child.kill('SIGHUP');
  await cli.logged('config reload refused; the running config stays');
  t.match(
    cli.messages.find((m) => m.includes('invalid YAML')),
    /visible\/config\.yaml:\d+:\d+ invalid YAML/,
  );
  t.equal((await client.unary({ message: 'still' })).reply.backend, 'b2');
  t.equal(cli.child.exitCode, null, 'still running');
});
