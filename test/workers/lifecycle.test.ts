// `workers: 2` on the real CLI (the built dist/), one process for both
// parts (start-up is the slow bit on a busy machine): a worker killed with
// SIGKILL loses no call on the other worker's connections and is replaced;
// then SIGTERM drains both workers, the replacement too (streams in flight
// on each finish OK), and the process exits 0.
import t from 'tap';
import * as grpc from '@grpc/grpc-js';
import { collect, nextReply, type EchoClient } from '../helpers/echo-client.js';
import { startBackends } from '../helpers/harness.js';
import { proxyConfig } from '../helpers/proxy.js';
import { adminRequest } from '../helpers/reload.js';
import {
  connectClients,
  eventually,
  spawnWorkers,
  START_BOUND_MS,
  workerOfEachClient,
  workerPids,
} from '../helpers/workers.js';

type Bidi = ReturnType<EchoClient['bidi']>;

/** A bidi stream on each client, each answered once (so each is open on its worker). */
async function openStreams(clients: readonly EchoClient[]): Promise<Bidi[]> {
  const streams = clients.map((client) => client.bidi());
  await Promise.all(
    streams.map(async (stream, i) => {
      stream.write({ message: `open ${String(i)}` });
      await nextReply(stream);
    }),
  );
  return streams;
}

/** One more message through `stream`; resolves with whether it came back. */
async function exchange(stream: Bidi, message: string): Promise<boolean> {
  stream.write({ message });
  try {
    return (await nextReply(stream)).message === message;
  } catch {
    return false;
  }
}

void t.test('SIGKILL of one worker, then SIGTERM of the whole', async (t) => {
  const [b1] = await startBackends(t, ['b1']);
  if (b1 === undefined) throw new Error('backend');
  const cli = await spawnWorkers(t, {
    ...proxyConfig([b1.address]),
    drain_delay: '200ms',
    drain_timeout: '10s',
  });
  const clients = connectClients(t, cli.address);

  // 1. SIGKILL one worker: nothing on the other's connections fails; a replacement starts.
  const owners = await workerOfEachClient(cli.admin, clients);
  t.same(new Set(owners), new Set([1, 2]), `connections on both workers: ${owners.join(',')}`);
  const victim = owners[0] ?? 1;
  const victimPid = workerPids(cli).get(victim);
  if (victimPid === undefined) throw new Error(`no pid logged for worker ${String(victim)}`);
  const streams = await openStreams(clients);
  for (const stream of streams) stream.on('error', () => undefined);
  const survivors = streams.filter((_s, i) => owners[i] !== victim);
  const survivorClients = clients.filter((_c, i) => owners[i] !== victim);
  // Unary calls on the survivor's connections keep going while the victim dies.
  let unaryFailures = 0;
  let unaryCalls = 0;
  let stop = false;
  const traffic = Promise.all(
    survivorClients.map(async (client) => {
      while (!stop) {
        unaryCalls++;
        await client.unary({ message: 'during kill' }).catch(() => {
          unaryFailures++;
        });
        // Paced, so the calls do not starve the replacement's start on a busy machine.
        await new Promise((resolve) => setTimeout(resolve, 20));
      }
    }),
  );
  process.kill(victimPid, 'SIGKILL');
  await eventually(
    'a replacement worker is ready',
    () => {
      const pid = workerPids(cli).get(victim);
      return pid !== undefined && pid !== victimPid;
    },
    START_BOUND_MS,
  );
  stop = true;
  await traffic;
  t.ok(unaryCalls > 0, `${String(unaryCalls)} unary calls on the survivor's connections`);
  t.equal(unaryFailures, 0, 'none of them failed');
  for (const [i, stream] of survivors.entries()) {
    t.ok(
      await exchange(stream, `after kill ${String(i)}`),
      `survivor stream ${String(i)} lives on`,
    );
    stream.end();
    t.equal((await collect(stream)).status.code, grpc.status.OK);
  }
  t.ok(cli.messages.includes('worker exited; starting a replacement'));
  await eventually(
    'ready again',
    async () => (await adminRequest(cli.admin, '/readyz')).status === 200,
  );
  t.match(
    (await adminRequest(cli.admin, '/metrics')).body,
    /^switchyard_worker_restarts_total 1$/m,
  );

  // 2. SIGTERM: both workers (the replacement too) drain; streams on each finish OK; exit 0.
  const nowOwners = await workerOfEachClient(cli.admin, clients);
  t.same(new Set(nowOwners), new Set([1, 2]), `reconnected to both: ${nowOwners.join(',')}`);
  const draining = await openStreams(clients);
  cli.child.kill('SIGTERM');
  await eventually(
    '/readyz 503',
    async () => (await adminRequest(cli.admin, '/readyz')).status === 503,
  );
  for (const [i, stream] of draining.entries()) {
    t.ok(
      await exchange(stream, `draining ${String(i)}`),
      `stream ${String(i)} (worker ${String(nowOwners[i])}) lives on`,
    );
  }
  await Promise.all(
    draining.map(async (stream, i) => {
      stream.end();
      t.equal((await collect(stream)).status.code, grpc.status.OK, `stream ${String(i)} ends OK`);
    }),
  );
  t.equal(await cli.exited, 0);
  const exits = cli.records.filter((r) => r['msg'] === 'worker exited');
  t.same(
    exits.map((r) => [r['worker'], r['code']]).sort(),
    [
      [1, 0],
      [2, 0],
    ],
    'both workers drained and exited 0',
  );
});
