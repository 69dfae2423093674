// Admin GET /metrics: exact counter values for a few calls (OK, a backend
// status, an unrouted call, a dead cluster), bounded labels however many
// unrouted paths clients try, and a clean `promtool check metrics`.
import { spawnSync } from 'node:child_process';
import t from 'tap';
import * as grpc from '@grpc/grpc-js';
import { serviceError } from '../helpers/echo-client.js';
import type { TestContext } from '../helpers/context.js';
import { connectClient, deadAddress, startBackends } from '../helpers/harness.js';
import { proxyConfig, startProxy } from '../helpers/proxy.js';
import type { EchoClient } from '../helpers/echo-client.js';

const DEAD_METHOD = '/switchyard.test.Dead/Call';

interface Sample {
  readonly name: string;
  readonly labels: Readonly<Record<string, string>>;
  readonly value: number;
}

/** The samples of a text exposition (enough of the format for prom-client's output). */
function parseSamples(text: string): Sample[] {
  const samples: Sample[] = [];
  for (const line of text.split('\n')) {
    if (line === '' || line.startsWith('#')) continue;
    const match = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})? (\S+)$/.exec(line);
    if (match === null) throw new Error(`unparsed metrics line: ${line}`);
    const labels: Record<string, string> = {};
    for (const pair of (match[2] ?? '').matchAll(/([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"/g))
      labels[pair[1] ?? ''] = pair[2] ?? '';
    samples.push({ name: match[1] ?? '', labels, value: Number(match[3]) });
  }
  return samples;
}

/** The value of the sample with exactly these labels; undefined when absent. */
function valueOf(
  samples: readonly Sample[],
  name: string,
  labels: Readonly<Record<string, string>>,
): number | undefined {
  const wanted = Object.entries(labels).sort(([a], [b]) => a.localeCompare(b));
  const found = samples.find(
    (s) =>
      s.name === name &&
      JSON.stringify(Object.entries(s.labels).sort(([a], [b]) => a.localeCompare(b))) ===
        JSON.stringify(wanted),
  );
  return found?.value;
}

interface MetricsProxy {
  readonly client: EchoClient;
  readonly deadEndpoint: string;
  readonly backendEndpoint: string;
  scrape(): Promise<{ readonly text: string; readonly contentType: string | null }>;
  /** Scrapes until `grpc_server_handled_total` sums to `calls` (outcomes are recorded as streams close). */
  scrapeAfter(calls: number): Promise<Sample[]>;
}

async function startMetricsProxy(t: TestContext): Promise<MetricsProxy> {
  const [backend] = await startBackends(t, ['b1']);
  if (backend === undefined) throw new Error('no backend');
  const deadEndpoint = await deadAddress();
  const running = await startProxy(
    t,
    proxyConfig([backend.address], {
      config: {
        admin: { address: '127.0.0.1:0' },
        routes: [
          { name: 'dead', match: { method: DEAD_METHOD }, cluster: 'dead' },
          { name: 'echo', match: { service: 'switchyard.test.Echo' }, cluster: 'echo' },
        ],
        clusters: [
          { name: 'echo', endpoints: [backend.address] },
          { name: 'dead', endpoints: [deadEndpoint] },
        ],
      },
    }),
  );
  const admin = running.proxy.adminAddress;
  if (admin === undefined) throw new Error('no admin address');
  const url = `http://127.0.0.1:${String(admin.port)}/metrics`;
  const scrape = async (): Promise<{ text: string; contentType: string | null }> => {
    const response = await fetch(url);
    if (response.status !== 200) throw new Error(`GET /metrics: ${String(response.status)}`);
    return { text: await response.text(), contentType: response.headers.get('content-type') };
  };
  const scrapeAfter = async (calls: number): Promise<Sample[]> => {
    const until = Date.now() + 5000;
    for (;;) {
      const samples = parseSamples((await scrape()).text);
      const handled = samples
        .filter((s) => s.name === 'grpc_server_handled_total')
        .reduce((sum, s) => sum + s.value, 0);
      if (handled >= calls || Date.now() > until) return samples;
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
  };
  return {
    client: connectClient(t, running.address),
    deadEndpoint,
    backendEndpoint: backend.address,
    scrape,
    scrapeAfter,
  };
}

void t.test('counters for OK, a backend status, an unrouted call and a dead cluster', async (t) => {
  const proxy = await startMetricsProxy(t);
  const { client } = proxy;
  await client.unary({ message: 'one' });
  await client.unary({ message: 'two' });
  const failed = await serviceError(client.unary({ failCode: grpc.status.NOT_FOUND }));
  t.equal(failed.code, grpc.status.NOT_FOUND);
  const unrouted = await serviceError(client.unaryAt('/other.Service/Method', {}));
  t.equal(unrouted.code, grpc.status.UNIMPLEMENTED);
  const dead = await serviceError(client.unaryAt(DEAD_METHOD, {}));
  t.equal(dead.code, grpc.status.UNAVAILABLE);

  const samples = await proxy.scrapeAfter(5);
  const unary = { grpc_service: 'switchyard.test.Echo', grpc_method: 'Unary' };
  const unknown = { grpc_service: 'unknown', grpc_method: 'unknown' };
  const deadLabels = { grpc_service: 'switchyard.test.Dead', grpc_method: 'Call' };
  t.equal(valueOf(samples, 'grpc_server_started_total', unary), 3);
  t.equal(valueOf(samples, 'grpc_server_started_total', unknown), 1);
  t.equal(valueOf(samples, 'grpc_server_started_total', deadLabels), 1);
  t.equal(valueOf(samples, 'grpc_server_handled_total', { ...unary, grpc_code: 'OK' }), 2);
  t.equal(valueOf(samples, 'grpc_server_handled_total', { ...unary, grpc_code: 'NOT_FOUND' }), 1);
  t.equal(
    valueOf(samples, 'grpc_server_handled_total', { ...unknown, grpc_code: 'UNIMPLEMENTED' }),
    1,
  );
  t.equal(
    valueOf(samples, 'grpc_server_handled_total', { ...deadLabels, grpc_code: 'UNAVAILABLE' }),
    1,
  );
  t.equal(valueOf(samples, 'grpc_server_handling_seconds_count', unary), 3);
  t.equal(valueOf(samples, 'grpc_server_handling_seconds_bucket', { ...unary, le: '+Inf' }), 3);
  t.equal(valueOf(samples, 'grpc_server_handling_seconds_count', unknown), 1);

  const echoCalls = {
    cluster: 'echo',
    endpoint: proxy.backendEndpoint,
    source: 'upstream',
  };
  t.equal(valueOf(samples, 'switchyard_upstream_calls_total', echoCalls), 3);
  t.equal(valueOf(samples, 'switchyard_upstream_attempts_total', { cluster: 'echo' }), 3);
  t.equal(
    valueOf(samples, 'switchyard_upstream_calls_total', {
      cluster: 'dead',
      endpoint: proxy.deadEndpoint,
      source: 'local',
    }),
    1,
  );
  t.ok(
    (valueOf(samples, 'switchyard_upstream_attempts_total', { cluster: 'dead' }) ?? 0) >= 1,
    'the dead cluster had at least one attempt',
  );
  // All local replies at once, so a failure shows every error code that was counted.
  const localReplies = Object.fromEntries(
    samples
      .filter((s) => s.name === 'switchyard_local_replies_total' && s.value > 0)
      .map((s) => [s.labels.error ?? '', s.value]),
  );
  t.same(localReplies, { no_route: 1, upstream_connect_failed: 1 }, 'the local replies, by error');

  // Gauges from the snapshot at scrape time.
  const echoEndpoint = { cluster: 'echo', endpoint: proxy.backendEndpoint };
  t.equal(valueOf(samples, 'switchyard_endpoint_available', echoEndpoint), 1);
  t.equal(valueOf(samples, 'switchyard_endpoint_in_flight', echoEndpoint), 0);
  t.equal(
    valueOf(samples, 'switchyard_endpoint_health_flag', { ...echoEndpoint, source: 'outlier' }),
    0,
  );
  const deadEndpoint = { cluster: 'dead', endpoint: proxy.deadEndpoint };
  t.equal(valueOf(samples, 'switchyard_endpoint_available', deadEndpoint), 0);
  t.equal(
    valueOf(samples, 'switchyard_endpoint_health_flag', {
      ...deadEndpoint,
      source: 'connect_failure',
    }),
    1,
  );
  t.ok(
    samples.some((s) => s.name === 'switchyard_process_cpu_user_seconds_total'),
    'process metrics carry the switchyard_ prefix',
  );
});

void t.test('GET /metrics answers in the Prometheus text format', async (t) => {
  const proxy = await startMetricsProxy(t);
  const { contentType } = await proxy.scrape();
  t.match(contentType, /^text\/plain; version=0\.0\.4/);
});

void t.test('labels stay bounded: 50 unrouted paths add no label values', async (t) => {
  const proxy = await startMetricsProxy(t);
  for (let i = 0; i < 50; i++) {
    const error = await serviceError(
      proxy.client.unaryAt(`/probe${String(i)}.Svc/Get${String(i)}`, {}),
    );
    t.equal(error.code, grpc.status.UNIMPLEMENTED);
  }
  const samples = await proxy.scrapeAfter(50);
  t.equal(
    valueOf(samples, 'grpc_server_handled_total', {
      grpc_service: 'unknown',
      grpc_method: 'unknown',
      grpc_code: 'UNIMPLEMENTED',
    }),
    50,
  );
  const grpcSeries = samples.filter((s) => s.name.startsWith('grpc_server_'));
  t.same(
    [...new Set(grpcSeries.map((s) => s.labels['grpc_service']))],
    ['unknown'],
    'only the constant service label',
  );
  t.same([...new Set(grpcSeries.map((s) => s.labels['grpc_method']))], ['unknown']);
  const text = (await proxy.scrape()).text;
  t.notMatch(text, /probe/, 'no path reaches the output');
});

void t.test('promtool check metrics: no errors, no lint problems', async (t) => {
  const proxy = await startMetricsProxy(t);
  await proxy.client.unary({ message: 'one' });
  await serviceError(proxy.client.unaryAt('/other.Service/Method', {}));
  await serviceError(proxy.client.unaryAt(DEAD_METHOD, {}));
  await proxy.scrapeAfter(3);
  const { text } = await proxy.scrape();
  const result = spawnSync('promtool', ['check', 'metrics'], { input: text, encoding: 'utf8' });
  if (result.error !== undefined) {
    throw new Error(
      `cannot run promtool (${result.error.message}): install it with ` +
        '`apt-get install -y prometheus` (.ci/run does)',
    );
  }
  t.equal(result.status, 0, `promtool said: ${result.stdout}${result.stderr}`);
  t.equal(`${result.stdout}${result.stderr}`.trim(), '', 'no lint output');
});

void t.test('messages, bytes, connections and connect failures', async (t) => {
  const proxy = await startMetricsProxy(t);
  const stream = proxy.client.bidi();
  for (const message of ['a', 'b', 'c']) stream.write({ message });
  stream.end();
  const replies = await new Promise<number>((resolve, reject) => {
    let count = 0;
    stream.on('data', () => count++);
    stream.on('error', reject);
    stream.on('end', () => resolve(count));
  });
  t.equal(replies, 3);
  await serviceError(proxy.client.unaryAt(DEAD_METHOD, { message: 'x' }));
  const samples = await proxy.scrapeAfter(2);
  const bidi = { grpc_service: 'switchyard.test.Echo', grpc_method: 'Bidi' };
  t.equal(valueOf(samples, 'grpc_server_msg_received_total', bidi), 3, 'three messages in');
  t.equal(valueOf(samples, 'grpc_server_msg_sent_total', bidi), 3, 'three messages out');
  const received = valueOf(samples, 'switchyard_downstream_received_bytes_total', {
    listener: 'main',
  });
  t.ok(received !== undefined && received >= 3 * 5, `request bytes counted (${String(received)})`);
  t.equal(valueOf(samples, 'switchyard_downstream_connections', { listener: 'main' }), 1);
  const echo = { cluster: 'echo', endpoint: proxy.backendEndpoint };
  t.equal(valueOf(samples, 'switchyard_upstream_connections', echo), 1, 'one pooled connection');
  t.equal(valueOf(samples, 'switchyard_upstream_streams', echo), 0, 'no stream left open');
  const dead = { cluster: 'dead', endpoint: proxy.deadEndpoint };
  const failures = valueOf(samples, 'switchyard_upstream_connect_failures_total', dead) ?? 0;
  t.ok(failures >= 1, `the dead endpoint's connect failures are counted (${String(failures)})`);
  t.equal(
    valueOf(samples, 'switchyard_cluster_limit_in_use', { cluster: 'echo', limit: 'requests' }),
    0,
  );
  t.equal(
    valueOf(samples, 'switchyard_cluster_overflows_total', {
      cluster: 'echo',
      limit: 'max_requests',
    }),
    0,
  );
});
