// `workers: 2` on the real CLI (the built dist/): calls arrive at both
// workers (per-worker counts in the primary's aggregated /metrics), a health
// change the primary's checks see reaches every worker within one check
// interval, an outlier ejection in one worker reaches the other, and a reload
// (SIGHUP) reaches both workers.
import * as grpc from '@grpc/grpc-js';
import t from 'tap';
import type { ClustersView } from '../../src/admin/clusters-view.js';
import { serviceError } from '../helpers/echo-client.js';
import { healthBackend } from '../helpers/health-echo-backend.js';
import { CLUSTER_NAME, proxyConfig } from '../helpers/proxy.js';
import { adminRequest, writeConfig } from '../helpers/reload.js';
import {
  callsByWorker,
  connectClients,
  eventually,
  spawnWorkers,
  WORKERS,
} from '../helpers/workers.js';

const INTERVAL_MS = 500;
/** Two failed checks in a row flag an endpoint: one slow answer on a busy machine does not. */
const UNHEALTHY_THRESHOLD = 2;

interface MergedEndpoint {
  readonly address: string;
  readonly available: boolean;
  readonly health_check: {
    readonly last_checked_at: string | null;
    readonly consecutive_failures: number;
  } | null;
  readonly workers: readonly {
    readonly worker: number;
    readonly flags: readonly string[];
    readonly outlier: { readonly ejected_until: string | null; readonly half_open: boolean } | null;
  }[];
}

async function endpointView(admin: string, address: string): Promise<MergedEndpoint> {
  const { body } = await adminRequest(admin, '/clusters');
  const view = JSON.parse(body) as ClustersView;
  const cluster = view.clusters.find((c) => c.name === CLUSTER_NAME);
  const endpoint = cluster?.endpoints.find((e) => e.address === address);
  if (endpoint === undefined) throw new Error(`${address} missing from /clusters: ${body}`);
  return endpoint as unknown as MergedEndpoint;
}

function sum(values: Iterable<number>): number {
  let total = 0;
  for (const value of values) total += value;
  return total;
}

void t.test('two workers: calls spread, health reaches both, reload reaches both', async (t) => {
  const b1 = await healthBackend(t, 'b1');
  const b2 = await healthBackend(t, 'b2');
  const b3 = await healthBackend(t, 'b3');
  const config = (endpoints: readonly string[]) =>
    proxyConfig(endpoints, {
      cluster: {
        panic_threshold: 0,
        outlier_detection: { consecutive_failures: 1, base_ejection_time: '2s' },
        health_check: {
          interval: `${String(INTERVAL_MS)}ms`,
          timeout: '2s',
          unhealthy_threshold: UNHEALTHY_THRESHOLD,
          healthy_threshold: 1,
          grpc: {},
        },
      },
    });
  const cli = await spawnWorkers(t, config([b1.echo.address, b2.echo.address]));
  t.equal((await adminRequest(cli.admin, '/readyz')).status, 200, 'ready once both workers are');
  const clients = connectClients(t, cli.address);

  // 1. Calls arrive at both workers.
  const replies = await Promise.all(
    clients.flatMap((client) => [1, 2, 3].map(() => client.unary({ message: 'spread' }))),
  );
  t.same(new Set(replies.map((r) => r.reply.backend)), new Set(['b1', 'b2']));
  const spread = await callsByWorker(cli.admin);
  t.same([...spread.keys()].sort(), [1, 2], 'each worker reports its calls');
  t.ok(
    [...spread.values()].every((calls) => calls > 0),
    `both workers took calls: ${JSON.stringify([...spread])}`,
  );
  t.equal(sum(spread.values()), replies.length, 'every call counted once');
  const { body: metrics } = await adminRequest(cli.admin, '/metrics');
  const started = /^grpc_server_started_total\{[^}]*grpc_method="Unary"[^}]*\} (\d+)$/m.exec(
    metrics,
  );
  t.equal(Number(started?.[1]), replies.length, 'grpc_server_started_total is summed over workers');
  t.match(metrics, /^switchyard_workers 2$/m);

  // 2. One failed call ejects its endpoint in the worker that carried it; the primary relays
  // the ejection, so the other worker (which saw no failure) skips the endpoint too.
  const [first] = clients;
  if (first === undefined) throw new Error('no client');
  const failure = await serviceError(first.unary({ message: 'fail once', failCode: 14 }));
  t.equal(failure.code, grpc.status.UNAVAILABLE, 'the one failing call');
  const addresses = [b1.echo.address, b2.echo.address];
  const ejectedEverywhere = async (): Promise<boolean> => {
    const views = await Promise.all(addresses.map((a) => endpointView(cli.admin, a)));
    return views.some(
      (v) =>
        v.workers.length === WORKERS && v.workers.every((w) => w.outlier?.ejected_until != null),
    );
  };
  await eventually('every worker has the endpoint ejected', ejectedEverywhere);
  t.equal(
    cli.messages.filter((m) => m === 'outlier ejected by another worker').length,
    WORKERS - 1,
    'the other worker got it from the primary',
  );
  // Then each worker lets one probe call through (half-open); calls one at a time until
  // every worker's probe succeeded and the endpoint is back in rotation everywhere.
  await eventually('back in rotation in every worker', async () => {
    for (const client of clients) await client.unary({ message: 'probe' });
    const views = await Promise.all(addresses.map((a) => endpointView(cli.admin, a)));
    return views.every((v) =>
      v.workers.every((w) => w.outlier?.ejected_until == null && w.outlier?.half_open !== true),
    );
  });

  // 3. A health change seen by the primary reaches every worker within one interval.
  b2.health.status = 'NOT_SERVING';
  let checkedAt = 0;
  // The check that flags b2 is the one whose failure count reaches the threshold (polled
  // every 20 ms against a 500 ms interval, the first view past it is that check's).
  await eventually('the primary flags b2', async () => {
    const check = (await endpointView(cli.admin, b2.echo.address)).health_check;
    if (check === null || check.last_checked_at === null) return false;
    if (check.consecutive_failures < UNHEALTHY_THRESHOLD) return false;
    checkedAt = Date.parse(check.last_checked_at);
    return true;
  });
  await eventually('every worker holds b2 out', async () => {
    const view = await endpointView(cli.admin, b2.echo.address);
    return (
      view.workers.length === WORKERS &&
      view.workers.every((w) => w.flags.includes('active_check')) &&
      !view.available
    );
  });
  const lag = Date.now() - checkedAt;
  t.ok(
    lag <= INTERVAL_MS,
    `every worker held b2 out ${String(lag)} ms after the check (bound ${String(INTERVAL_MS)} ms)`,
  );
  const beforeAvoid = await callsByWorker(cli.admin);
  const b2Calls = b2.echo.calls;
  const avoided = await Promise.all(
    clients.flatMap((client) => [1, 2, 3].map(() => client.unary({ message: 'avoid b2' }))),
  );
  t.ok(
    avoided.every((r) => r.reply.backend === 'b1'),
    'no worker sends a call to b2',
  );
  t.equal(b2.echo.calls, b2Calls, 'b2 saw none of them');
  const afterAvoid = await callsByWorker(cli.admin);
  t.ok(
    [1, 2].every((id) => (afterAvoid.get(id) ?? 0) > (beforeAvoid.get(id) ?? 0)),
    'both workers carried some of them',
  );

  // 4. A reload (SIGHUP) reaches both workers: the cluster is now b3 alone.
  await writeConfig(cli.configPath, {
    ...config([b3.echo.address]),
    workers: WORKERS,
    admin: { address: '127.0.0.1:0' },
  });
  cli.child.kill('SIGHUP');
  await cli.logged('config reloaded');
  // The primary logs "config reloaded" only after every worker said it applied it; the
  // workers' own lines may reach the pipe a moment later.
  await eventually(
    'each worker logged applying it',
    () => cli.messages.filter((m) => m === 'worker applied config').length === WORKERS,
  );
  const beforeReload = await callsByWorker(cli.admin);
  const reloaded = await Promise.all(
    clients.flatMap((client) => [1, 2, 3].map(() => client.unary({ message: 'after reload' }))),
  );
  t.ok(
    reloaded.every((r) => r.reply.backend === 'b3'),
    'every worker routes to b3',
  );
  const afterReload = await callsByWorker(cli.admin);
  t.ok(
    [1, 2].every((id) => (afterReload.get(id) ?? 0) > (beforeReload.get(id) ?? 0)),
    'both workers carried calls after the reload',
  );
  t.equal(cli.child.exitCode, null, 'still running');
});
