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
 * Single-process proxies run on CPU 0 (one at a time under load; the others
 * idle); the two backends and h2load share CPU 1. With `--workers 1,2` each
 * Switchyard target also runs as a primary + N workers ("switchyard ×2w")
 * on N CPUs, CPU 1 last (worker-counts.ts), so on a 2-CPU machine its
 * workers share CPU 1 with the load. Reports calls/s, p50/p99 latency and
 * calls per proxy CPU-second (utime + stime of the proxy's process tree from
 * /proc, process-tree-cpu.ts), calls/s as a ratio to direct and calls per
 * CPU-second as a ratio to nodejs, per connection count (`--connections 50,1`).
 * A target that cannot run (HAProxy not installed, the switchyard engine
 * not merged yet or falling back to node:http2) is reported as
 * "unavailable: <reason>" and the rest go on. A benchmark, never a test.
 *
 * Flags (options.ts, docs/benchmark.md): --targets a,b,c --rounds N
 * --duration S --connections N[,N...] --streams N (h2load -m) --requests N
 * (fixed count instead of --duration) --stream-messages N (0: no streaming
 * case) --workers N[,N...] --backend switchyard|nodejs (the backends' HTTP/2
 * stack: engine-backend.ts, the default, or fast-backend.ts).
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { availableParallelism, tmpdir } from 'node:os';
import { join } from 'node:path';
import { GRPC_TIMEOUT } from './h2load.js';
import { measure } from './measure.js';
import { options } from './options.js';
import { treePids } from './process-tree-cpu.js';
import { startReady, stop, Unavailable, type Started } from './processes.js';
import { report, type Outcome, type RoundResult } from './report.js';
import { probeEngine, type Engine } from './switchyard-target.js';
import { startTarget, TARGETS, type RunningTarget, type StartContext } from './targets.js';
import { instances, proxyCpuList, type Instance } from './worker-counts.js';

const PROXY_CPU = 0;
const LOAD_CPU = 1;
const BACKEND_SCRIPTS = {
  switchyard: 'bench/engine-backend.js',
  nodejs: 'bench/fast-backend.js',
} as const;

function requireTool(tool: string, hint: string): void {
  try {
    execFileSync('sh', ['-c', `command -v ${tool}`], { stdio: 'ignore' });
  } catch {
    process.stderr.write(`bench: ${tool} not found; ${hint}\n`);
    process.exit(1);
  }
}

/** A space-separated list of node flags from an environment variable. */
function nodeFlags(variable: string): string[] {
  return (process.env[variable] ?? '').split(' ').filter(Boolean);
}

function log(line: string): void {
  process.stderr.write(`bench: ${line}\n`);
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
    workers: 1,
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

async function startInstances(
  list: readonly Instance[],
  ctx: StartContext,
  outcomes: Map<string, Outcome>,
  running: Map<string, RunningTarget>,
): Promise<void> {
  const engines = new Set<Engine>();
  for (const { target } of list) {
    const engine = TARGETS.find((t) => t.name === target)?.engine;
    if (engine !== undefined) engines.add(engine);
  }
  const engineUnavailable = await probeEngines(engines, ctx);
  for (const instance of list) {
    const { label, target, workers } = instance;
    const engine = TARGETS.find((t) => t.name === target)?.engine;
    const reason = engine === undefined ? undefined : engineUnavailable.get(engine);
    if (reason !== undefined) {
      outcomes.set(label, { status: 'unavailable', reason });
      log(`${label} unavailable: ${reason}`);
      continue;
    }
    try {
      const started = await startTarget(instance, ctx);
      running.set(label, started);
      const pids = started.pid === undefined ? [] : treePids(started.pid);
      if (workers !== undefined && workers > 1 && pids.length !== workers + 1) {
        ctx.note(`${label}: ${pids.length} processes, not a primary + ${workers} workers`);
      }
    } catch (error) {
      const why = error instanceof Error ? error.message : String(error);
      outcomes.set(label, { status: 'unavailable', reason: why });
      log(`${label} unavailable: ${why}`);
      if (!(error instanceof Unavailable)) log(`(${label}: unexpected error while starting)`);
    }
  }
}

async function main(): Promise<void> {
  const opts = options();
  requireTool('h2load', 'install it with: apt-get install -y nghttp2-client');
  requireTool('taskset', 'install it with: apt-get install -y util-linux');
  const node = process.execPath;
  const dist = new URL('..', import.meta.url).pathname;
  const list = instances(opts.targets, opts.workers);
  const cpuCount = availableParallelism();
  const workerCpus = opts.workers
    .filter((n) => n > 1 && list.some((i) => i.workers === n))
    .map((n) => ({ workers: n, cpus: proxyCpuList(n, cpuCount, PROXY_CPU, LOAD_CPU) }));
  const backends: Started[] = [];
  const running = new Map<string, RunningTarget>();
  const outcomes = new Map<string, Outcome>();
  // Rounds per instance label and connection count.
  const rounds = new Map<string, (RoundResult | { error: string })[]>();
  const key = (label: string, connections: number): string => `${label}\t${connections}`;
  const notes: string[] = [];
  const startedAt = new Date();
  try {
    let backendExit: string | undefined;
    for (let i = 0; i < 2; i++) {
      const backend = await startReady(LOAD_CPU, [
        node,
        // The backends live through the whole run: a collector flag given to the
        // proxies (BENCH_PROXY_NODE_FLAGS) is given to them here too, so they age alike.
        ...nodeFlags('BENCH_BACKEND_NODE_FLAGS'),
        join(dist, BACKEND_SCRIPTS[opts.backend]),
        '0',
      ]);
      backend.child.once('exit', (code, signal) => {
        backendExit ??= `backend ${backend.port} exited (${code ?? signal ?? '?'}) during the run`;
      });
      backends.push(backend);
    }
    const ctx: StartContext = {
      backends: backends.map((b) => b.port),
      dir: mkdtempSync(join(tmpdir(), 'switchyard-bench-')),
      proxyCpu: PROXY_CPU,
      loadCpu: LOAD_CPU,
      cpuCount,
      // e.g. BENCH_PROXY_NODE_FLAGS="--cpu-prof --cpu-prof-dir=/tmp/prof" to profile the proxy.
      proxyNodeFlags: nodeFlags('BENCH_PROXY_NODE_FLAGS'),
      // e.g. the same dist as BENCH_BASELINE_DIST with other flags, to measure a flag.
      baselineNodeFlags: nodeFlags(
        process.env['BENCH_BASELINE_NODE_FLAGS'] === undefined
          ? 'BENCH_PROXY_NODE_FLAGS'
          : 'BENCH_BASELINE_NODE_FLAGS',
      ),
      note: (line) => {
        notes.push(line);
        log(line);
      },
    };
    ctx.note(`configs (Switchyard YAML, HAProxy cfg) in ${ctx.dir}`);
    if (workerCpus.some((w) => w.cpus.split(',').includes(String(LOAD_CPU)))) {
      ctx.note(
        `proxies with workers share CPU ${LOAD_CPU} with h2load and the backends ` +
          `(${cpuCount} CPUs): compare their calls/CPU-s rather than their calls/s`,
      );
    }
    await startInstances(list, ctx, outcomes, running);
    const live = list.filter((i) => running.has(i.label)).map((i) => i.label);
    for (let round = 0; round < opts.rounds; round++) {
      for (const connections of opts.connections) {
        // Rotate the order each round so no target always runs first or last.
        const order = live.map((_, i) => live[(i + round) % live.length] ?? '');
        for (const label of order) {
          const target = running.get(label);
          if (target === undefined || backendExit !== undefined) continue;
          log(`round ${round + 1}/${opts.rounds}, -c ${connections}: ${label}`);
          const results = rounds.get(key(label, connections)) ?? [];
          rounds.set(key(label, connections), results);
          const stream = connections === opts.connections[0];
          try {
            results.push(
              await measure(label, target, opts, { loadCpu: LOAD_CPU, connections, stream }),
            );
          } catch (error) {
            const why = error instanceof Error ? error.message : String(error);
            log(`${label} -c ${connections}: round ${round + 1} failed: ${why}`);
            results.push({ error: why });
          }
        }
      }
    }
    if (backendExit !== undefined) ctx.note(`${backendExit}: rounds after it were skipped`);
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
    workerCpus,
    outcomes: opts.connections.flatMap((connections) =>
      list.map((i) => ({
        name: i.label,
        target: i.target,
        workers: i.workers,
        connections,
        outcome: outcomes.get(i.label) ?? {
          status: 'measured' as const,
          rounds: rounds.get(key(i.label, connections)) ?? [],
        },
      })),
    ),
    notes,
  });
}

main().catch((error: unknown) => {
  process.stderr.write(`bench failed: ${error instanceof Error ? error.message : String(error)}\n`);
  process.exit(1);
});
