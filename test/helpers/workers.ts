/**
 * Worker-process tests' set-up: the real CLI with `workers: 2`, many client
 * connections (so the primary's round robin gives each worker some), and
 * the per-worker call counts its /metrics reports.
 */
import { join } from 'node:path';
import type { Config } from '../../src/config/schema.js';
import { spawnSwitchyard, type RunningCli } from './cli-process.js';
import type { TestContext } from './context.js';
import type { EchoClient } from './echo-client.js';
import { connectClient } from './harness.js';
import { adminRequest, tempDir, writeConfig } from './reload.js';

export const WORKERS = 2;
/** Client connections per test: enough that round robin gives every worker several. */
export const CONNECTIONS = 12;
/**
 * Start-up of a primary and two workers (or of a replacement worker). Each
 * worker loads the whole proxy (about 1 s of CPU); on a 2-core machine
 * shared with other test runs that has taken over 20 s.
 */
export const START_BOUND_MS = 60_000;
/** Longest a bounded wait in these tests polls before it fails. */
export const WAIT_BOUND_MS = 15_000;

export interface WorkersCli extends RunningCli {
  readonly configPath: string;
}

/** Writes `config` (with `workers: 2` and an admin address) and starts the CLI on it. */
export async function spawnWorkers(t: TestContext, config: Config): Promise<WorkersCli> {
  const configPath = join(await tempDir(t), 'config.yaml');
  await writeConfig(configPath, {
    ...config,
    workers: WORKERS,
    admin: { address: '127.0.0.1:0' },
  });
  const cli = await spawnSwitchyard(t, configPath, {
    ready: 'workers ready',
    readyBoundMs: START_BOUND_MS,
  });
  return { ...cli, configPath };
}

/** `CONNECTIONS` clients, each on its own connection (grpc-js shares subchannels otherwise). */
export function connectClients(t: TestContext, address: string): EchoClient[] {
  return Array.from({ length: CONNECTIONS }, () =>
    connectClient(t, address, { channelOptions: { 'grpc.use_local_subchannel_pool': 1 } }),
  );
}

/** `switchyard_worker_calls_started_total` by worker id, from the primary's /metrics. */
export async function callsByWorker(admin: string): Promise<Map<number, number>> {
  const { status, body } = await adminRequest(admin, '/metrics');
  if (status !== 200) throw new Error(`/metrics answered ${String(status)}`);
  const calls = new Map<number, number>();
  for (const match of body.matchAll(
    /^switchyard_worker_calls_started_total\{worker="(\d+)"\} (\d+)$/gm,
  )) {
    calls.set(Number(match[1]), Number(match[2]));
  }
  return calls;
}

/** Polls `check` every 20 ms until it holds; rejects after `boundMs`. */
export async function eventually(
  what: string,
  check: () => boolean | Promise<boolean>,
  boundMs = WAIT_BOUND_MS,
): Promise<void> {
  const deadline = Date.now() + boundMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`${what}: not within ${String(boundMs)} ms`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

/**
 * The worker each client's connection landed on: one call each, seen in
 * /metrics. A client that just reconnected (its worker died) can have a call
 * counted by both workers (grpc-js retries it transparently); such a client
 * is asked again, up to three times.
 */
export async function workerOfEachClient(
  admin: string,
  clients: readonly EchoClient[],
): Promise<number[]> {
  const workers: number[] = [];
  let before = await callsByWorker(admin);
  for (const client of clients) {
    let owner: number | undefined;
    for (let attempt = 0; attempt < 3 && owner === undefined; attempt++) {
      await client.unary({ message: 'which worker' });
      const after = await callsByWorker(admin);
      const moved = [...after].filter(([id, calls]) => calls !== (before.get(id) ?? 0));
      before = after;
      if (moved.length === 1) owner = moved[0]?.[0];
    }
    if (owner === undefined)
      throw new Error(
        `no single worker counted the calls of a client: ${JSON.stringify([...before])}`,
      );
    workers.push(owner);
  }
  return workers;
}

/** Worker pids by worker id, from the primary's "worker ready" log lines (the latest per id). */
export function workerPids(cli: RunningCli): Map<number, number> {
  const pids = new Map<number, number>();
  for (const record of cli.records) {
    const { msg, worker, workerPid } = record;
    if (msg === 'worker ready' && typeof worker === 'number' && typeof workerPid === 'number')
      pids.set(worker, workerPid);
  }
  return pids;
}
