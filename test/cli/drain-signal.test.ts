// SIGTERM on the real `switchyard` process (the built dist/): /readyz turns
// 503, a stream in flight for 2 s finishes OK while new connections are
// refused, and the process exits 0; a second SIGTERM exits at once.
import net from 'node:net';
import { join } from 'node:path';
import t from 'tap';
import * as grpc from '@grpc/grpc-js';
import { BOUND_MS, spawnSwitchyard, type RunningCli } from '../helpers/cli-process.js';
import type { TestContext } from '../helpers/context.js';
import { collect, nextReply } from '../helpers/echo-client.js';
import { connectClient, startBackends } from '../helpers/harness.js';
import { proxyConfig } from '../helpers/proxy.js';
import { adminRequest, tempDir, writeConfig } from '../helpers/reload.js';

async function startCli(t: TestContext, drain: Record<string, string>): Promise<RunningCli> {
  const [b1] = await startBackends(t, ['b1']);
  if (b1 === undefined) throw new Error('backend');
  const path = join(await tempDir(t), 'config.yaml');
  await writeConfig(
    path,
    proxyConfig([b1.address], { config: { admin: { address: '127.0.0.1:0' }, ...drain } }),
  );
  return spawnSwitchyard(t, path);
}

/** Whether a TCP connection to `address` is refused (false: it was accepted). */
function refused(address: string): Promise<boolean> {
  const [host, port] = address.split(':');
  return new Promise((resolve) => {
    const socket = net.connect(Number(port), host);
    socket.once('connect', () => {
      socket.destroy();
      resolve(false);
    });
    socket.once('error', () => resolve(true));
  });
}

/** Polls `check` until it holds; rejects after BOUND_MS. */
async function eventually(what: string, check: () => Promise<boolean>): Promise<void> {
  const deadline = Date.now() + BOUND_MS;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`${what}: not within ${BOUND_MS} ms`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

void t.test('SIGTERM: a 2 s stream finishes, new connections are refused, exit 0', async (t) => {
  const cli = await startCli(t, { drain_delay: '200ms', drain_timeout: '10s' });
  t.equal((await adminRequest(cli.admin, '/readyz')).status, 200);
  const client = connectClient(t, cli.address);
  const stream = client.bidi();
  const started = Date.now();
  stream.write({ message: 'first' });
  t.equal((await nextReply(stream)).backend, 'b1');

  cli.child.kill('SIGTERM');
  await eventually(
    '/readyz 503',
    async () => (await adminRequest(cli.admin, '/readyz')).status === 503,
  );
  await eventually('new connections refused', () => refused(cli.address));
  // The stream lives on for its 2 s, one message every 100 ms.
  let messages = 1;
  while (Date.now() - started < 2_000) {
    await new Promise((resolve) => setTimeout(resolve, 100));
    stream.write({ message: `m${messages}` });
    t.equal((await nextReply(stream)).message, `m${messages}`);
    messages++;
  }
  stream.end();
  t.equal((await collect(stream)).status.code, grpc.status.OK);
  t.equal(await cli.exited, 0);
});

void t.test('a second SIGTERM exits at once', async (t) => {
  const cli = await startCli(t, { drain_timeout: '25s' });
  const client = connectClient(t, cli.address);
  const stream = client.bidi();
  stream.write({ message: 'held open' });
  await nextReply(stream);
  stream.on('error', () => undefined);
  const draining = cli.logged('draining');
  cli.child.kill('SIGTERM');
  await draining;
  const second = Date.now();
  cli.child.kill('SIGTERM');
  t.equal(await cli.exited, 1);
  t.ok(Date.now() - second < 5_000, 'well before drain_timeout');
});
