// A real Prometheus (the Debian `prometheus` package, as in .ci/run) scrapes
// the proxy's admin /metrics: the target turns `up`, `up` is 1, and the
// proxy's own series (a gRPC call counter, a process metric) are queryable
// through Prometheus' HTTP API. Prometheus listens on 127.0.0.1:0; its
// address is read from its log line "Listening on".
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import t from 'tap';
import type { TestContext } from '../helpers/context.js';
import { ECHO_SERVICE_NAME } from '../helpers/echo-proto.js';
import { connectClient, startBackends } from '../helpers/harness.js';
import { proxyConfig, startProxy } from '../helpers/proxy.js';

const PROMETHEUS = process.env['SWITCHYARD_TEST_PROMETHEUS'] ?? '/usr/bin/prometheus';
const JOB = 'switchyard';
const LISTEN_TIMEOUT_MS = 10_000;
const UP_TIMEOUT_MS = 20_000;
const POLL_MS = 100;

interface Target {
  readonly health: string;
  readonly scrapeUrl: string;
  readonly lastError: string;
  readonly labels: Readonly<Record<string, string>>;
}

interface VectorSample {
  readonly metric: Readonly<Record<string, string>>;
  readonly value: readonly [number, string];
}

interface Prometheus {
  /** `http://127.0.0.1:PORT` of its web API. */
  readonly url: string;
  /** Its log so far (stderr), for failure messages. */
  log(): string;
}

/**
 * Starts Prometheus on `config` with its storage in `dir`, stopped in `t`'s
 * teardown; resolves once it logs the address it listens on.
 */
async function startPrometheus(t: TestContext, dir: string, config: string): Promise<Prometheus> {
  const configFile = join(dir, 'prometheus.yml');
  writeFileSync(configFile, config);
  const child: ChildProcess = spawn(
    PROMETHEUS,
    [
      `--config.file=${configFile}`,
      `--storage.tsdb.path=${join(dir, 'data')}`,
      '--web.listen-address=127.0.0.1:0',
      '--log.level=info',
    ],
    { stdio: ['ignore', 'ignore', 'pipe'] },
  );
  let log = '';
  let exited = false;
  const exit = new Promise<void>((resolve) => {
    child.once('exit', () => {
      exited = true;
      resolve();
    });
  });
  t.teardown(async () => {
    if (exited) return;
    child.kill('SIGTERM');
    const killer = setTimeout(() => child.kill('SIGKILL'), 5000);
    await exit;
    clearTimeout(killer);
  });
  const address = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => {
      reject(
        new Error(`prometheus did not log its address within ${LISTEN_TIMEOUT_MS} ms:\n${log}`),
      );
    }, LISTEN_TIMEOUT_MS);
    child.once('error', (error) => {
      clearTimeout(timer);
      reject(
        new Error(
          `cannot run ${PROMETHEUS} (${error.message}): install it with ` +
            '`apt-get install -y prometheus` (.ci/run does)',
        ),
      );
    });
    child.once('exit', (code, signal) => {
      clearTimeout(timer);
      reject(new Error(`prometheus exited early (${String(code ?? signal)}):\n${log}`));
    });
    child.stderr?.on('data', (chunk: Buffer) => {
      log += chunk.toString();
      const match = /msg="Listening on" address=(127\.0\.0\.1:\d+)/.exec(log);
      if (match?.[1] !== undefined) {
        clearTimeout(timer);
        resolve(match[1]);
      }
    });
  });
  return { url: `http://${address}`, log: () => log };
}

/** GET a Prometheus API path; its `data` when `status` is `success`. */
async function api(prometheus: Prometheus, path: string): Promise<unknown> {
  const response = await fetch(`${prometheus.url}${path}`, { signal: AbortSignal.timeout(2000) });
  const body = (await response.json()) as { status?: string; data?: unknown; error?: string };
  if (response.status !== 200 || body.status !== 'success') {
    throw new Error(`GET ${path}: ${String(response.status)} ${body.error ?? ''}`);
  }
  return body.data;
}

async function query(prometheus: Prometheus, promql: string): Promise<VectorSample[]> {
  const data = (await api(prometheus, `/api/v1/query?query=${encodeURIComponent(promql)}`)) as {
    resultType: string;
    result: VectorSample[];
  };
  if (data.resultType !== 'vector') throw new Error(`${promql}: ${data.resultType}, not a vector`);
  return data.result;
}

/** Calls `probe` every POLL_MS until it returns a value, for at most `timeoutMs`. */
async function pollFor<T>(timeoutMs: number, probe: () => Promise<T | undefined>): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let lastError: unknown;
  for (;;) {
    try {
      const value = await probe();
      if (value !== undefined) return value;
    } catch (error) {
      lastError = error; // Prometheus still starting: try again
    }
    if (Date.now() > deadline) {
      throw new Error(
        `not there within ${String(timeoutMs)} ms` +
          (lastError instanceof Error ? `; last error: ${lastError.message}` : ''),
      );
    }
    await new Promise((resolve) => setTimeout(resolve, POLL_MS));
  }
}

void t.test(
  'Prometheus scrapes admin /metrics: target up, switchyard series queryable',
  async (t) => {
    const [backend] = await startBackends(t, ['b1']);
    if (backend === undefined) throw new Error('no backend');
    const running = await startProxy(
      t,
      proxyConfig([backend.address], { config: { admin: { address: '127.0.0.1:0' } } }),
    );
    const admin = running.proxy.adminAddress;
    if (admin === undefined) throw new Error('no admin address');
    const adminAddress = `127.0.0.1:${String(admin.port)}`;
    // One call, so that the call counters have a series before the first scrape.
    const client = connectClient(t, running.address);
    await client.unary({ message: 'scrape me' });

    const dir = mkdtempSync(join(tmpdir(), 'switchyard-prometheus-'));
    t.teardown(() => rmSync(dir, { recursive: true, force: true }));
    // The scrape config docs/operations.md shows, with this run's admin address.
    const prometheus = await startPrometheus(
      t,
      dir,
      [
        'global:',
        '  scrape_interval: 1s',
        '  scrape_timeout: 1s',
        'scrape_configs:',
        `  - job_name: ${JOB}`,
        '    metrics_path: /metrics',
        '    static_configs:',
        `      - targets: ['${adminAddress}']`,
        '',
      ].join('\n'),
    );

    let target: Target;
    let seen: Target | undefined;
    try {
      target = await pollFor(UP_TIMEOUT_MS, async () => {
        const data = (await api(prometheus, '/api/v1/targets?state=active')) as {
          activeTargets: Target[];
        };
        const found = data.activeTargets.find((a) => a.labels['job'] === JOB);
        seen = found;
        return found?.health === 'up' ? found : undefined;
      });
    } catch (error) {
      t.fail(`target ${adminAddress} not up: ${String(error)}`, {
        target: seen,
        log: prometheus.log().slice(-3000),
      });
      return;
    }
    t.equal(target.health, 'up', 'the target is up');
    t.equal(target.scrapeUrl, `http://${adminAddress}/metrics`, 'scraped at the admin /metrics');
    t.equal(target.labels['instance'], adminAddress, 'instance label is the admin address');
    t.equal(target.lastError, '', 'the last scrape had no error');

    const up = await query(prometheus, `up{job="${JOB}"}`);
    t.equal(up.length, 1, 'one up series');
    t.equal(up[0]?.value[1], '1', 'up == 1');

    const started = await query(
      prometheus,
      `grpc_server_started_total{job="${JOB}",grpc_service="${ECHO_SERVICE_NAME}",grpc_method="Unary"}`,
    );
    t.equal(started.length, 1, 'grpc_server_started_total for Echo/Unary is queryable');
    t.equal(started[0]?.value[1], '1', 'it counts the one call');
    t.equal(started[0]?.metric['instance'], adminAddress);

    const cpu = await query(prometheus, `switchyard_process_cpu_user_seconds_total{job="${JOB}"}`);
    t.equal(cpu.length, 1, 'a switchyard_ process metric is queryable');
    t.ok(Number(cpu[0]?.value[1]) > 0, 'process CPU time is positive');
  },
);
