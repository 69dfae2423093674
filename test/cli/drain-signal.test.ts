// SIGTERM on the real `switchyard` process (the built dist/): /readyz turns
// 503, a stream in flight for 2 s finishes OK while new connections are
// refused, and the process exits 0; a second SIGTERM exits at once.
import { spawn, type ChildProcess } from 'node:child_process';
import net from 'node:net';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import t from 'tap';
import * as grpc from '@grpc/grpc-js';
import type { TestContext } from '../helpers/context.js';
import { collect, nextReply } from '../helpers/echo-client.js';
import { connectClient, startBackends } from '../helpers/harness.js';
import { proxyConfig } from '../helpers/proxy.js';
import { adminRequest, tempDir, writeConfig } from '../helpers/reload.js';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const MAIN = `${ROOT}dist/src/cli/main.js`;
const BOUND_MS = 10_000;

interface LogLine {
  readonly msg?: unknown;
  readonly address?: { readonly port?: unknown };
}

interface RunningCli {
  readonly child: ChildProcess;
  readonly address: string;
  readonly admin: string;
  /** Resolves with the first log line whose `msg` is `msg`. */
  logged(msg: string): Promise<void>;
  readonly exited: Promise<number | null>;
}

async function startCli(t: TestContext, drain: Record<string, string>): Promise<RunningCli> {
  const [b1] = await startBackends(t, ['b1']);
  if (b1 === undefined) throw new Error('backend');
  const path = join(await tempDir(t), 'config.yaml');
  await writeConfig(
    path,
    proxyConfig([b1.address], { config: { admin: { address: '127.0.0.1:0' }, ...drain } }),
  );
  const child = spawn(process.execPath, [MAIN, '--config', path, '--log-level', 'info'], {
    cwd: ROOT,
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  const exited = new Promise<number | null>((resolve) => child.once('exit', resolve));
  t.teardown(() => {
    if (child.exitCode === null) child.kill('SIGKILL');
  });
  const waiting = new Map<string, () => void>();
  const seen = new Set<string>();
  let listener: number | undefined;
  let admin: number | undefined;
  createInterface({ input: child.stdout }).on('line', (text) => {
    let line: LogLine;
    try {
      line = JSON.parse(text) as LogLine;
    } catch {
      return;
    }
    if (typeof line.msg !== 'string') return;
    const port = line.address?.port;
    if (line.msg === 'listening' && typeof port === 'number') listener = port;
    if (line.msg === 'admin listening' && typeof port === 'number') admin = port;
    seen.add(line.msg);
    waiting.get(line.msg)?.();
  });
  const logged = (msg: string): Promise<void> =>
    seen.has(msg)
      ? Promise.resolve()
      : new Promise((resolve, reject) => {
          const timer = setTimeout(() => reject(new Error(`no "${msg}" log line`)), BOUND_MS);
          waiting.set(msg, () => {
            clearTimeout(timer);
            resolve();
          });
        });
  await Promise.race([
    logged('switchyard ready'),
    exited.then((code) => {
      throw new Error(`switchyard exited with ${String(code)} before it was ready`);
    }),
  ]);
  if (listener === undefined || admin === undefined) throw new Error('ports not logged');
  return {
    child,
    address: `127.0.0.1:${listener}`,
    admin: `http://127.0.0.1:${admin}`,
    logged,
    exited,
  };
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
