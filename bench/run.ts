/**
 * `npm run bench`: unary gRPC calls (h2load) and long server streams through
 * several targets in one invocation, interleaved over rounds (medians are
 * reported, since the machine is noisy):
 *   direct          h2load → backend
 *   passthrough     bare node:http2 pass-through (bench/passthrough.ts)
 *   nodejs          Switchyard, engine nodejs (node:http2), every feature on
 *   nodejs-min      Switchyard, engine nodejs, minimal config
 *   switchyard      Switchyard, engine switchyard (frame-level), every feature on
 *   switchyard-min  Switchyard, engine switchyard, minimal config
 *   haproxy         HAProxy 2.6, h2c gRPC proxy, one thread, features like Switchyard's
 *   haproxy-min     HAProxy, minimal (not in the default list)
 * Proxies run on CPU 0 (one at a time under load; the others idle); the two
 * backends and h2load share CPU 1. Reports calls/s, p50/p99 latency and
 * calls per proxy CPU-second (utime + stime from /proc/PID/stat), calls/s
 * as a ratio to direct and calls per CPU-second as a ratio to nodejs.
 * A target that cannot run (HAProxy not installed, the switchyard engine
 * not merged yet or falling back to node:http2) is reported as
 * "unavailable: <reason>" and the rest go on. A benchmark, never a test.
 *
 * Flags (docs/benchmark.md): --targets a,b,c --rounds N --duration S
 * --connections N --streams N (h2load -m) --requests N (fixed count instead
 * of --duration) --stream-messages N (0: no streaming case).
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { GRPC_TIMEOUT, h2load } from './h2load.js';
import { cpuSeconds, startReady, stop, Unavailable, type Started } from './processes.js';
import { UNARY_REPLY_LENGTH } from './reply-size.js';
import { report, type Outcome, type RoundResult } from './report.js';
import { streamLoad } from './stream-load.js';
import { probeEngine, type Engine } from './switchyard-target.js';
import {
  DEFAULT_TARGETS,
  startTarget,
  TARGETS,
  type RunningTarget,
  type StartContext,
} from './targets.js';

const PROXY_CPU = 0;
const LOAD_CPU = 1;
const STREAMS = 8;
const STREAM_MESSAGE_SIZE = 1024;

export interface Options {
  readonly targets: readonly string[];
  readonly rounds: number;
  /** Seconds per unary run (h2load -D), unless requests is set. */
  readonly duration: number;
  readonly requests: number | undefined;
  readonly connections: number;
  readonly streams: number;
  readonly streamMessages: number;
}

const USAGE = `npm run bench -- [--targets ${DEFAULT_TARGETS.join(',')}] [--rounds 3]
  [--duration 5 | --requests N] [--connections 50] [--streams 10] [--stream-messages 20000]
targets: ${TARGETS.map((t) => t.name).join(', ')}
`;

function positive(name: string, text: string | undefined, fallback: number, min = 1): number {
  if (text === undefined) return fallback;
  const value = Number(text);
  if (!Number.isFinite(value) || value < min) {
    process.stderr.write(`bench: --${name} must be a number >= ${min}, not ${text}\n${USAGE}`);
    process.exit(2);
  }
  return value;
}

function options(): Options {
  const { values } = parseArgs({
    options: {
      targets: { type: 'string' },
      rounds: { type: 'string' },
      duration: { type: 'string' },
      requests: { type: 'string' },
      connections: { type: 'string' },
      streams: { type: 'string' },
      'stream-messages': { type: 'string' },
      help: { type: 'boolean' },
    },
  });
  if (values.help === true) {
    process.stdout.write(USAGE);
    process.exit(0);
  }
  const targets = (values.targets ?? DEFAULT_TARGETS.join(','))
    .split(',')
    .map((t) => t.trim())
    .filter(Boolean);
  const unknown = targets.filter((t) => !TARGETS.some((spec) => spec.name === t));
  if (unknown.length > 0 || targets.length === 0) {
    process.stderr.write(`bench: unknown targets ${unknown.join(', ')}\n${USAGE}`);
    process.exit(2);
  }
  return {
    targets: [...new Set(targets)],
    rounds: Math.floor(positive('rounds', values.rounds, 3)),
    duration: positive('duration', values.duration, 5),
    requests:
      values.requests === undefined
        ? undefined
        : Math.floor(positive('requests', values.requests, 0)),
    connections: Math.floor(positive('connections', values.connections, 50)),
    streams: Math.floor(positive('streams', values.streams, 10)),
    streamMessages: Math.floor(positive('stream-messages', values['stream-messages'], 20000, 0)),
  };
}

function requireTool(tool: string, hint: string): void {
  try {
    execFileSync('sh', ['-c', `command -v ${tool}`], { stdio: 'ignore' });
  } catch {
    process.stderr.write(`bench: ${tool} not found; ${hint}\n`);
    process.exit(1);
  }
}

function log(line: string): void {
  process.stderr.write(`bench: ${line}\n`);
}

async function scrape(url: string): Promise<string> {
  try {
    const response = await fetch(url);
    const body = await response.text();
    return response.status === 200 ? `ok ${body.length} B` : `HTTP ${response.status}`;
  } catch (error) {
    return `failed: ${error instanceof Error ? error.message : String(error)}`;
  }
}

async function measure(name: string, target: RunningTarget, opts: Options): Promise<RoundResult> {
  const load = {
    cpu: LOAD_CPU,
    port: target.port,
    clients: opts.connections,
    streamsPerClient: opts.streams,
  };
  // Warm-up (JIT, sessions), not measured.
  await h2load({
    ...load,
    amount:
      opts.requests === undefined
        ? { seconds: Math.min(1, opts.duration) }
        : { requests: Math.min(5000, opts.requests) },
  });
  const cpu = (): number => (target.pid === undefined ? 0 : cpuSeconds(target.pid));
  const scrapeAfterMs = opts.requests === undefined ? (opts.duration * 1000) / 2 : 500;
  const { metricsUrl } = target;
  let scraped: Promise<string> | undefined;
  const timer =
    metricsUrl === undefined
      ? undefined
      : setTimeout(() => {
          scraped = scrape(metricsUrl);
        }, scrapeAfterMs);
  let cpu0 = cpu();
  const unary = await h2load({
    ...load,
    amount: opts.requests === undefined ? { seconds: opts.duration } : { requests: opts.requests },
  });
  const unaryCpu = cpu() - cpu0;
  clearTimeout(timer);
  const messages = unary.dataBytes / UNARY_REPLY_LENGTH;
  // A reply without a message is a trailers-only error that h2load counts as a success.
  // With -D, calls cut off at the end may have their headers and not yet their message.
  const withoutMessage =
    opts.requests === undefined
      ? Math.max(0, unary.responses2xx - messages)
      : unary.succeeded - messages;
  const tolerated = opts.requests === undefined ? opts.connections * opts.streams : 0;
  if (unary.failed > 0 || withoutMessage > tolerated || unary.succeeded === 0) {
    throw new Error(
      `${unary.failed} calls failed; ${unary.dataBytes} data bytes for ${unary.responses2xx} ` +
        `2xx replies and ${unary.succeeded} successes (expected ${UNARY_REPLY_LENGTH} each): ` +
        `replies without a message are errors (h2load: ${unary.summary})`,
    );
  }
  const result: RoundResult = {
    callsPerSec: unary.reqPerSec,
    calls: unary.succeeded,
    p50Ms: unary.p50Ms,
    p99Ms: unary.p99Ms,
    proxyCpuSeconds: target.pid === undefined ? undefined : unaryCpu,
    callsPerCpuSecond: target.pid === undefined ? undefined : unary.succeeded / unaryCpu,
    metricsScrape: scraped === undefined ? undefined : await scraped,
  };
  log(`${name}: ${result.callsPerSec.toFixed(0)} calls/s`);
  if (opts.streamMessages === 0) return result;
  cpu0 = cpu();
  const stream = await streamLoad(target.port, STREAMS, opts.streamMessages, STREAM_MESSAGE_SIZE);
  const streamCpu = cpu() - cpu0;
  const mb = stream.bytes / 1e6;
  log(`${name}: stream ${(mb / stream.seconds).toFixed(1)} MB/s`);
  return {
    ...result,
    streamMBps: mb / stream.seconds,
    streamMBPerCpuSecond: target.pid === undefined ? undefined : mb / streamCpu,
  };
}

/**
 * Probes each Switchyard engine the targets need (plus nodejs, which calibrates
 * the fallback check) and returns why an engine is unavailable, if it is.
 */
async function probeEngines(
  engines: ReadonlySet<Engine>,
  ctx: StartContext,
): Promise<Map<Engine, string>> {
  const unavailable = new Map<Engine, string>();
  if (engines.size === 0) return unavailable;
  const setup = (engine: Engine): Parameters<typeof probeEngine>[0] => ({
    engine,
    variant: 'full',
    backends: ctx.backends,
    dir: ctx.dir,
    cpu: ctx.proxyCpu,
    nodeFlags: [],
  });
  let detectorSees: boolean | undefined;
  try {
    detectorSees = (await probeEngine(setup('nodejs'))).nodeHttp2Server;
    if (!detectorSees) {
      log('probe: NODE_DEBUG=http2 showed no node:http2 server session for engine nodejs;');
      log('probe: a switchyard-engine run cannot be told from a fallback to node:http2');
    }
  } catch (error) {
    unavailable.set('nodejs', error instanceof Error ? error.message : String(error));
  }
  if (engines.has('switchyard')) {
    try {
      const probe = await probeEngine(setup('switchyard'));
      if (probe.nodeHttp2Server) {
        unavailable.set(
          'switchyard',
          'with engine: switchyard the proxy still served its listener with node:http2 ' +
            '(NODE_DEBUG=http2 shows server sessions): it fell back to engine nodejs ' +
            '(the switchyard engine is not merged yet?)',
        );
      } else if (detectorSees === false) {
        ctx.note(
          'switchyard: engine not verified (the fallback check saw nothing for nodejs either)',
        );
      }
    } catch (error) {
      unavailable.set('switchyard', error instanceof Error ? error.message : String(error));
    }
  }
  return unavailable;
}

async function main(): Promise<void> {
  const opts = options();
  requireTool('h2load', 'install it with: apt-get install -y nghttp2-client');
  requireTool('taskset', 'install it with: apt-get install -y util-linux');
  const node = process.execPath;
  const dist = new URL('..', import.meta.url).pathname;
  const backends: Started[] = [];
  const running = new Map<string, RunningTarget>();
  const outcomes = new Map<string, Outcome>();
  const notes: string[] = [];
  const startedAt = new Date();
  try {
    let backendExit: string | undefined;
    for (let i = 0; i < 2; i++) {
      const backend = await startReady(LOAD_CPU, [node, join(dist, 'bench/fast-backend.js'), '0']);
      backend.child.once('exit', (code, signal) => {
        backendExit ??= `backend ${backend.port} exited (${code ?? signal ?? '?'}) during the run`;
      });
      backends.push(backend);
    }
    const ctx: StartContext = {
      backends: backends.map((b) => b.port),
      dir: mkdtempSync(join(tmpdir(), 'switchyard-bench-')),
      proxyCpu: PROXY_CPU,
      // e.g. BENCH_PROXY_NODE_FLAGS="--cpu-prof --cpu-prof-dir=/tmp/prof" to profile the proxy.
      proxyNodeFlags: (process.env['BENCH_PROXY_NODE_FLAGS'] ?? '').split(' ').filter(Boolean),
      note: (line) => {
        notes.push(line);
        log(line);
      },
    };
    ctx.note(`configs (Switchyard YAML, HAProxy cfg) in ${ctx.dir}`);
    const engines = new Set<Engine>();
    for (const name of opts.targets) {
      const engine = TARGETS.find((t) => t.name === name)?.engine;
      if (engine !== undefined) engines.add(engine);
    }
    const engineUnavailable = await probeEngines(engines, ctx);
    for (const name of opts.targets) {
      const engine = TARGETS.find((t) => t.name === name)?.engine;
      const reason = engine === undefined ? undefined : engineUnavailable.get(engine);
      if (reason !== undefined) {
        outcomes.set(name, { status: 'unavailable', reason });
        log(`${name} unavailable: ${reason}`);
        continue;
      }
      try {
        running.set(name, await startTarget(name, ctx));
      } catch (error) {
        const why = error instanceof Error ? error.message : String(error);
        outcomes.set(name, { status: 'unavailable', reason: why });
        log(`${name} unavailable: ${why}`);
        if (!(error instanceof Unavailable)) log(`(${name}: unexpected error while starting)`);
      }
    }
    const live = [...running.keys()];
    const rounds = new Map<string, (RoundResult | { error: string })[]>(live.map((n) => [n, []]));
    for (let round = 0; round < opts.rounds; round++) {
      // Rotate the order each round so no target always runs first or last.
      const order = live.map((_, i) => live[(i + round) % live.length] ?? '');
      for (const name of order) {
        const target = running.get(name);
        if (target === undefined || backendExit !== undefined) continue;
        log(`round ${round + 1}/${opts.rounds}: ${name}`);
        try {
          rounds.get(name)?.push(await measure(name, target, opts));
        } catch (error) {
          const why = error instanceof Error ? error.message : String(error);
          log(`${name}: round ${round + 1} failed: ${why}`);
          rounds.get(name)?.push({ error: why });
        }
      }
    }
    if (backendExit !== undefined) ctx.note(`${backendExit}: rounds after it were skipped`);
    for (const [name, results] of rounds)
      outcomes.set(name, { status: 'measured', rounds: results });
  } finally {
    for (const target of running.values()) await target.stop();
    for (const backend of backends) await stop(backend.child);
  }
  report({
    startedAt,
    options: opts,
    grpcTimeout: GRPC_TIMEOUT,
    proxyCpu: PROXY_CPU,
    loadCpu: LOAD_CPU,
    outcomes: opts.targets.map((name) => ({
      name,
      outcome: outcomes.get(name) ?? { status: 'unavailable', reason: 'not started' },
    })),
    notes,
  });
}

main().catch((error: unknown) => {
  process.stderr.write(`bench failed: ${error instanceof Error ? error.message : String(error)}\n`);
  process.exit(1);
});
