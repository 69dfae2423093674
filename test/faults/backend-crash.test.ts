/**
 * A backend process killed with SIGKILL while it streams: the kernel closes
 * its sockets with no GOAWAY and no RST_STREAM. The streaming call gets
 * UNAVAILABLE, a call started after the crash fails over to the surviving
 * endpoint (the dead one is held out once its connection fails), and the
 * proxy's state returns to baseline.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import * as grpc from '@grpc/grpc-js';
import t from 'tap';
import type { TestContext } from '../helpers/context.js';
import { serviceError } from '../helpers/echo-client.js';
import { connectClient, startBackends } from '../helpers/harness.js';
import { within } from '../helpers/upstream-backend.js';
import { faultProxy } from './fault-proxy.js';
import { repoPath } from '../helpers/repo-root.js';

const FIXTURE = repoPath('test', 'faults', 'fixtures', 'streaming-backend.mjs');

interface BackendProcess {
  readonly child: ChildProcess;
  readonly address: string;
  readonly exited: Promise<NodeJS.Signals | null>;
}

/** Spawns the streaming backend fixture and waits for its "ready PORT" line. */
async function spawnBackend(t: TestContext): Promise<BackendProcess> {
  const child = spawn(process.execPath, [FIXTURE], { stdio: ['ignore', 'pipe', 'inherit'] });
  const exited = new Promise<NodeJS.Signals | null>((resolve) =>
    child.once('exit', (_code, signal) => resolve(signal)),
  );
  t.teardown(() => {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  });
  const port = await within(
    new Promise<number>((resolve, reject) => {
      let buffered = '';
      child.stdout.on('data', (chunk: Buffer) => {
        buffered += chunk.toString('utf8');
        const match = /ready (\d+)/.exec(buffered);
        if (match !== null) resolve(Number(match[1]));
      });
      void exited.then(() => reject(new Error('backend exited before it was ready')));
    }),
    10_000,
    'ready line from the backend process',
  );
  return { child, address: `127.0.0.1:${port}`, exited };
}

void t.test('a backend process SIGKILLed mid-stream: UNAVAILABLE, then failover', async (t) => {
  const backend = await spawnBackend(t);
  const [survivor] = await startBackends(t, ['survivor']);
  if (survivor === undefined) throw new Error('no survivor');
  // The crashing process first (round robin starts there), a live grpc-js backend second.
  const fp = await faultProxy(t, backend.address, {
    cluster: { endpoints: [backend.address, survivor.address] },
  });
  const baseline = fp.counts();
  const client = connectClient(t, fp.address);
  const call = client.bidi();
  let received = 0;
  const failed = serviceError(
    new Promise((resolve, reject) => {
      call.on('data', () => {
        received++;
        if (received === 3) backend.child.kill('SIGKILL');
      });
      call.on('error', reject);
      call.on('end', resolve);
    }),
  );
  const error = await within(failed, 5_000, 'the streaming call to fail');
  t.equal(await backend.exited, 'SIGKILL', 'the backend process was killed');
  t.equal(error.code, grpc.status.UNAVAILABLE, `${grpc.status[error.code]}: ${error.details}`);
  t.ok(received >= 3, `${received} messages arrived before the crash`);
  // New calls go to the survivor, whatever the balancer picks.
  const replies = await Promise.all(
    Array.from({ length: 4 }, (_, i) => client.unary({ message: `after ${i}` })),
  );
  t.same(
    replies.map((r) => r.reply.backend),
    ['survivor', 'survivor', 'survivor', 'survivor'],
    'calls after the crash are served by the survivor',
  );
  call.end();
  client.close();
  await fp.expectRecovered(t, baseline);
});
