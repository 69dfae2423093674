/**
 * `npm run bench`: unary gRPC calls (h2load -c 50 -m 10) and long server
 * streams, each through three targets in one invocation:
 *   direct       h2load → backend
 *   passthrough  h2load → bare node:http2 pass-through (bench/passthrough.ts) → backend
 *   switchyard   h2load → Switchyard (access log on, to /dev/null) → backend
 * The proxy under test runs alone on CPU 0; backend and load generator
 * share CPU 1. Reports req/s, p50/p99 latency and calls per proxy
 * CPU-second, and the ratio switchyard / passthrough, since absolute
 * numbers on a shared machine are noise. A benchmark, never a test.
 *
 * Flags: --requests N (default 50000), --stream-messages N (default 20000).
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { UNARY_REPLY_LENGTH } from './reply-size.js';
import { h2load, type H2loadResult } from './h2load.js';
import { cpuSeconds, freePort, startQuiet, startReady, stop, waitForReady } from './processes.js';
import { streamLoad, type StreamResult } from './stream-load.js';

const PROXY_CPU = 0;
const LOAD_CPU = 1;

interface Row {
  readonly target: string;
  readonly unary: H2loadResult;
  readonly unaryCpu: number | undefined;
  readonly stream: StreamResult;
  readonly streamCpu: number | undefined;
}

function requireTool(tool: string, hint: string): void {
  try {
    execFileSync('sh', ['-c', `command -v ${tool}`], { stdio: 'ignore' });
  } catch {
    process.stderr.write(`bench: ${tool} not found; ${hint}\n`);
    process.exit(1);
  }
}

async function measure(
  target: string,
  port: number,
  proxyPid: number | undefined,
  requests: number,
  streamMessages: number,
): Promise<Row> {
  await h2load(LOAD_CPU, port, Math.min(5000, requests), 50, 10); // warm-up (JIT, sessions)
  let cpu0 = proxyPid === undefined ? 0 : cpuSeconds(proxyPid);
  const unary = await h2load(LOAD_CPU, port, requests, 50, 10);
  const unaryCpu = proxyPid === undefined ? undefined : cpuSeconds(proxyPid) - cpu0;
  if (unary.dataBytes !== unary.succeeded * UNARY_REPLY_LENGTH || unary.failed > 0) {
    throw new Error(
      `${target}: ${unary.failed} failed; data ${unary.dataBytes} bytes for ${unary.succeeded} ` +
        `"successes" (expected ${unary.succeeded * UNARY_REPLY_LENGTH}): replies without a message are errors`,
    );
  }
  cpu0 = proxyPid === undefined ? 0 : cpuSeconds(proxyPid);
  const stream = await streamLoad(port, 8, streamMessages, 1024);
  const streamCpu = proxyPid === undefined ? undefined : cpuSeconds(proxyPid) - cpu0;
  return { target, unary, unaryCpu, stream, streamCpu };
}

function report(rows: readonly Row[]): void {
  const fmt = (n: number | undefined, digits = 0): string =>
    n === undefined || !Number.isFinite(n) ? '-' : n.toFixed(digits);
  const lines = [
    'target        unary req/s   p50 ms   p99 ms   calls/proxy-CPU-s   stream msg/s   stream MB/s   MB/proxy-CPU-s',
  ];
  for (const r of rows) {
    const perCpu = r.unaryCpu === undefined ? undefined : r.unary.succeeded / r.unaryCpu;
    const mb = r.stream.bytes / 1e6;
    lines.push(
      [
        r.target.padEnd(12),
        fmt(r.unary.reqPerSec).padStart(12),
        fmt(r.unary.p50Ms, 2).padStart(8),
        fmt(r.unary.p99Ms, 2).padStart(8),
        fmt(perCpu).padStart(19),
        fmt(r.stream.messages / r.stream.seconds).padStart(14),
        fmt(mb / r.stream.seconds, 1).padStart(13),
        fmt(r.streamCpu === undefined ? undefined : mb / r.streamCpu, 1).padStart(16),
      ].join(' '),
    );
  }
  const base = rows.find((r) => r.target === 'passthrough');
  const ours = rows.find((r) => r.target === 'switchyard');
  if (base?.unaryCpu !== undefined && ours?.unaryCpu !== undefined) {
    const ratio = ours.unary.succeeded / ours.unaryCpu / (base.unary.succeeded / base.unaryCpu);
    lines.push(
      '',
      `switchyard / passthrough, unary calls per proxy CPU-second: ${ratio.toFixed(2)}x`,
    );
    lines.push(
      `switchyard / passthrough, unary req/s: ${(ours.unary.reqPerSec / base.unary.reqPerSec).toFixed(2)}x`,
    );
  }
  process.stdout.write(`${lines.join('\n')}\n`);
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: { requests: { type: 'string' }, 'stream-messages': { type: 'string' } },
  });
  const requests = Number(values.requests ?? '50000');
  const streamMessages = Number(values['stream-messages'] ?? '20000');
  requireTool('h2load', 'install it with: apt-get install -y nghttp2-client');
  requireTool('taskset', 'install it with: apt-get install -y util-linux');
  const node = process.execPath;
  const dist = new URL('..', import.meta.url).pathname;
  const backend = await startReady(LOAD_CPU, [node, join(dist, 'bench/fast-backend.js'), '0']);
  const rows: Row[] = [];
  try {
    rows.push(await measure('direct', backend.port, undefined, requests, streamMessages));

    const pass = await startReady(PROXY_CPU, [
      node,
      join(dist, 'bench/passthrough.js'),
      '0',
      String(backend.port),
    ]);
    try {
      rows.push(await measure('passthrough', pass.port, pass.child.pid, requests, streamMessages));
    } finally {
      await stop(pass.child);
    }

    const [listenPort, adminPort] = [await freePort(), await freePort()];
    const dir = mkdtempSync(join(tmpdir(), 'switchyard-bench-'));
    const configPath = join(dir, 'bench.yaml');
    writeFileSync(
      configPath,
      [
        `admin: { address: 127.0.0.1:${adminPort} }`,
        'listeners:',
        `  - { name: bench, address: 127.0.0.1:${listenPort} }`,
        'routes:',
        '  - { name: bench, match: { service: bench.Bench }, cluster: bench, timeout: 30s }',
        'clusters:',
        `  - { name: bench, endpoints: [127.0.0.1:${backend.port}] }`,
        '',
      ].join('\n'),
    );
    // e.g. BENCH_PROXY_NODE_FLAGS="--cpu-prof --cpu-prof-dir=/tmp/prof" to profile the proxy.
    const proxyFlags = (process.env['BENCH_PROXY_NODE_FLAGS'] ?? '').split(' ').filter(Boolean);
    const proxy = startQuiet(PROXY_CPU, [
      node,
      ...proxyFlags,
      join(dist, 'src/cli/main.js'),
      '--config',
      configPath,
      '--log-level',
      'info',
    ]);
    try {
      await waitForReady(`http://127.0.0.1:${adminPort}/readyz`, 10_000);
      if (proxy.pid === undefined) throw new Error('switchyard did not start');
      rows.push(await measure('switchyard', listenPort, proxy.pid, requests, streamMessages));
    } finally {
      await stop(proxy);
    }
  } finally {
    await stop(backend.child);
  }
  report(rows);
}

main().catch((error: unknown) => {
  process.stderr.write(`bench failed: ${error instanceof Error ? error.message : String(error)}\n`);
  process.exit(1);
});
