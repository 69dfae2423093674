// Active health checks (cluster `health_check`) against real backends: gRPC
// Health/Check, HTTP/1.1 GET and TCP connect, seen through admin /clusters,
// /readyz and where calls go.
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import * as grpc from '@grpc/grpc-js';
import t from 'tap';
import type { ClustersView, EndpointView } from '../../src/admin/clusters-view.js';
import type { HealthCheckConfig } from '../../src/config/schema.js';
import type { TestContext } from '../helpers/context.js';
import { startEchoBackend } from '../helpers/echo-backend.js';
import { healthBackend } from '../helpers/health-echo-backend.js';
import { serviceError } from '../helpers/echo-client.js';
import { connectClient, deadAddress } from '../helpers/harness.js';
import { CLUSTER_NAME, proxyConfig, startProxy, type RunningProxy } from '../helpers/proxy.js';

const INTERVAL_MS = 100;
const TIMEOUT_MS = 250;
const UNHEALTHY_THRESHOLD = 3;
/** interval × unhealthy_threshold + one interval + timeout. */
const FLAG_BOUND_MS = INTERVAL_MS * UNHEALTHY_THRESHOLD + INTERVAL_MS + TIMEOUT_MS;
/** Longest any bounded poll here waits before failing. */
const POLL_LIMIT_MS = 5_000;

function check(kind: Partial<HealthCheckConfig>): HealthCheckConfig {
  return {
    interval: `${String(INTERVAL_MS)}ms`,
    timeout: `${String(TIMEOUT_MS)}ms`,
    unhealthy_threshold: UNHEALTHY_THRESHOLD,
    healthy_threshold: 2,
    ...kind,
  };
}

async function proxyWithChecks(
  t: TestContext,
  endpoints: readonly string[],
  healthCheck: HealthCheckConfig,
): Promise<RunningProxy & { readonly admin: string }> {
  const running = await startProxy(
    t,
    proxyConfig(endpoints, {
      cluster: { health_check: healthCheck, panic_threshold: 0 },
      config: { admin: { address: '127.0.0.1:0' } },
    }),
  );
  const admin = running.proxy.adminAddress;
  if (admin === undefined) throw new Error('no admin address');
  return { ...running, admin: `http://127.0.0.1:${String(admin.port)}` };
}

async function clusterEndpoints(admin: string): Promise<EndpointView[]> {
  const response = await fetch(`${admin}/clusters`);
  const body = (await response.json()) as ClustersView;
  const cluster = body.clusters.find((c) => c.name === CLUSTER_NAME);
  if (cluster === undefined) throw new Error('cluster missing from /clusters');
  return [...cluster.endpoints];
}

async function endpointView(admin: string, address: string): Promise<EndpointView> {
  const found = (await clusterEndpoints(admin)).find((e) => e.address === address);
  if (found === undefined) throw new Error(`${address} missing from /clusters`);
  return found;
}

/**
 * Polls /clusters (no event reaches the test from the checks) every 10ms
 * until `address` is (un)available; resolves with the time it took.
 */
async function waitAvailable(admin: string, address: string, available: boolean): Promise<number> {
  return waitFor(
    admin,
    address,
    (view) => view.available === available,
    available ? 'available' : 'flagged',
  );
}

/** Polls /clusters until `address`'s view satisfies `test`; returns the ms it took from `started`. */
async function waitFor(
  admin: string,
  address: string,
  test: (view: EndpointView) => boolean,
  what: string,
  started = performance.now(),
): Promise<number> {
  for (;;) {
    const view = await endpointView(admin, address);
    const elapsed = performance.now() - started;
    if (test(view)) return elapsed;
    if (elapsed > POLL_LIMIT_MS) {
      throw new Error(`${address} not ${what} after ${String(elapsed)}ms`);
    }
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

void t.test(
  'gRPC check: NOT_SERVING is flagged in time, avoided, and used again after SERVING',
  async (t) => {
    const b1 = await healthBackend(t, 'b1');
    const b2 = await healthBackend(t, 'b2');
    const { proxy, address, admin } = await proxyWithChecks(
      t,
      [b1.echo.address, b2.echo.address],
      check({ grpc: { service: 'switchyard.test.Echo' } }),
    );
    await proxy.whenHealthChecked();
    const before = await clusterEndpoints(admin);
    t.same(
      before.map((e) => [e.address, e.available, e.flags, e.health_check?.last_result]),
      [
        [b1.echo.address, true, [], 'healthy'],
        [b2.echo.address, true, [], 'healthy'],
      ],
    );
    t.equal(b2.health.lastService, 'switchyard.test.Echo', 'the configured service is asked about');
    t.equal(before[0]?.outlier, null, 'outlier view left to outlier detection');

    b2.health.status = 'NOT_SERVING';
    const took = await waitAvailable(admin, b2.echo.address, false);
    t.ok(
      took <= FLAG_BOUND_MS,
      `flagged after ${String(Math.round(took))}ms (bound ${String(FLAG_BOUND_MS)}ms)`,
    );
    const flagged = await endpointView(admin, b2.echo.address);
    t.same(flagged.flags, ['active_check']);
    t.match(flagged.health_check, {
      last_result: /^unhealthy: serving status 2/,
      consecutive_successes: 0,
    });
    t.ok((flagged.health_check?.consecutive_failures ?? 0) >= UNHEALTHY_THRESHOLD);

    const client = connectClient(t, address);
    const callsBefore = b2.echo.calls;
    for (let i = 0; i < 100; i++) {
      const { reply } = await client.unary({ message: `m${String(i)}` });
      t.equal(reply.backend, 'b1', `call ${String(i)} avoids b2`, {
        diagnostic: reply.backend !== 'b1',
      });
    }
    t.equal(b2.echo.calls, callsBefore, 'b2 saw none of the 100 calls');

    b2.health.status = 'SERVING';
    await waitAvailable(admin, b2.echo.address, true);
    const seen = new Set<string>();
    for (let i = 0; i < 10; i++) seen.add((await client.unary({})).reply.backend);
    t.same([...seen].sort(), ['b1', 'b2'], 'b2 takes calls again');
  },
);

void t.test('gRPC check: a killed backend is flagged in time', async (t) => {
  const b1 = await healthBackend(t, 'b1');
  const b2 = await healthBackend(t, 'b2');
  const { proxy, admin, address } = await proxyWithChecks(
    t,
    [b1.echo.address, b2.echo.address],
    check({ grpc: {} }),
  );
  await proxy.whenHealthChecked();
  t.equal((await endpointView(admin, b2.echo.address)).available, true);
  const client = connectClient(t, address);
  const killedAt = performance.now();
  await b2.echo.close();
  // No call was in flight when b2 died, so none may fail: before the check
  // flags b2, a call picked for it is replayed on b1 (it never reached b2).
  for (let i = 0; i < 20; i++) {
    t.equal((await client.unary({ message: `after kill ${String(i)}` })).reply.backend, 'b1');
  }
  // The pool's connect_failure flag may come first; the active check's own
  // flag must follow within the bound, counted from the kill.
  const took = await waitFor(
    admin,
    b2.echo.address,
    (view) => view.flags.includes('active_check'),
    'flagged by the active check',
    killedAt,
  );
  t.ok(
    took <= FLAG_BOUND_MS,
    `flagged after ${String(Math.round(took))}ms (bound ${String(FLAG_BOUND_MS)}ms)`,
  );
  t.equal((await endpointView(admin, b1.echo.address)).available, true, 'b1 unaffected');
});

void t.test('gRPC check: UNIMPLEMENTED is unhealthy unless unimplemented_is_healthy', async (t) => {
  const plain = await startEchoBackend('plain');
  t.teardown(() => plain.close());
  const strict = await proxyWithChecks(t, [plain.address], check({ grpc: {} }));
  await strict.proxy.whenHealthChecked();
  const view = await endpointView(strict.admin, plain.address);
  t.equal(view.available, false);
  t.match(view.health_check?.last_result, /grpc-status 12/);

  const lenient = await proxyWithChecks(
    t,
    [plain.address],
    check({ grpc: { unimplemented_is_healthy: true } }),
  );
  await lenient.proxy.whenHealthChecked();
  t.equal((await endpointView(lenient.admin, plain.address)).available, true);
});

void t.test(
  'HTTP check on another port: 503 takes the endpoint out, 200 brings it back',
  async (t) => {
    const b1 = await startEchoBackend('b1');
    t.teardown(() => b1.close());
    let status = 200;
    const paths: string[] = [];
    const server = http.createServer((req, res) => {
      paths.push(req.url ?? '');
      res.writeHead(status).end();
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    t.teardown(
      () =>
        new Promise<void>((resolve) => {
          server.closeAllConnections();
          server.close(() => resolve());
        }),
    );
    const port = (server.address() as AddressInfo).port;
    const { proxy, admin } = await proxyWithChecks(
      t,
      [b1.address],
      check({ http: { port, path: '/ready', expected_statuses: [200, 204] } }),
    );
    await proxy.whenHealthChecked();
    t.equal((await endpointView(admin, b1.address)).available, true);
    t.equal(paths[0], '/ready');

    status = 503;
    const took = await waitAvailable(admin, b1.address, false);
    t.ok(
      took <= FLAG_BOUND_MS,
      `flagged after ${String(Math.round(took))}ms (bound ${String(FLAG_BOUND_MS)}ms)`,
    );
    t.match((await endpointView(admin, b1.address)).health_check?.last_result, /HTTP status 503/);

    status = 204;
    await waitAvailable(admin, b1.address, true);
    t.pass('an expected status brings it back');
  },
);

void t.test('TCP check flags a closed port and passes an open one', async (t) => {
  const live = await startEchoBackend('live');
  t.teardown(() => live.close());
  const dead = await deadAddress();
  const { proxy, admin } = await proxyWithChecks(t, [live.address, dead], check({ tcp: {} }));
  await proxy.whenHealthChecked();
  t.equal((await endpointView(admin, live.address)).available, true);
  const flagged = await endpointView(admin, dead);
  t.equal(flagged.available, false);
  t.ok(flagged.flags.includes('active_check'));
  t.match(flagged.health_check?.last_result, /connect failed/);
});

void t.test(
  '/readyz is 503 and the endpoint takes no calls until the first round ends',
  async (t) => {
    const b1 = await healthBackend(t, 'b1');
    b1.health.hold();
    const { proxy, address, admin } = await proxyWithChecks(
      t,
      [b1.echo.address],
      check({ grpc: {}, timeout: '10s' }),
    );
    t.equal(
      (await fetch(`${admin}/readyz`)).status,
      503,
      'not ready while the first check is held',
    );
    const pending = await endpointView(admin, b1.echo.address);
    t.same(
      [pending.available, pending.flags, pending.health_check?.last_result],
      [false, ['active_check'], null],
    );
    t.equal(proxy.healthChecked, false);
    const client = connectClient(t, address);
    const error = await serviceError(client.unary({}));
    t.equal(error.code, grpc.status.UNAVAILABLE, 'no call reaches it before its first check');
    t.equal(b1.echo.calls, 0);

    b1.health.release();
    await proxy.whenHealthChecked();
    t.equal((await fetch(`${admin}/readyz`)).status, 200, 'ready once the first round ended');
    t.equal(
      (await endpointView(admin, b1.echo.address)).available,
      true,
      'one pass is enough at first',
    );
  },
);
