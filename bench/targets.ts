/** What the bench can measure, and how each target is started. */
import { join } from 'node:path';
import { HAPROXY_VARIANTS, haproxyVersion, startHaproxy } from './haproxy-target.js';
import { startReady, stop, Unavailable } from './processes.js';
import { startSwitchyard, SWITCHYARD_VARIANTS, type Engine } from './switchyard-target.js';
import { proxyCpuList, type Instance } from './worker-counts.js';

export interface RunningTarget {
  readonly port: number;
  /** The proxy process whose CPU time is measured; undefined for direct. */
  readonly pid: number | undefined;
  /** Scraped once in the middle of each unary run, like a Prometheus server would. */
  readonly metricsUrl: string | undefined;
  /** /metrics read before and after each run for its per-worker call counts (workers > 1). */
  readonly workerMetricsUrl?: string | undefined;
  stop(): Promise<void>;
}

export interface TargetSpec {
  readonly name: string;
  /** The engine a Switchyard target runs (its probe decides whether it is available). */
  readonly engine?: Engine;
  /** One line on what this target is and which config it runs. */
  readonly describe: string;
}

export const TARGETS: readonly TargetSpec[] = [
  { name: 'direct', describe: 'h2load → backend (no proxy): the ceiling and the ratios’ base' },
  {
    name: 'passthrough',
    describe: 'bare node:http2 pass-through (bench/passthrough.ts), 1 backend, no features',
  },
  {
    name: 'nodejs',
    engine: 'nodejs',
    describe: `Switchyard engine nodejs, ${SWITCHYARD_VARIANTS.full}`,
  },
  {
    name: 'nodejs-min',
    engine: 'nodejs',
    describe: `Switchyard engine nodejs, ${SWITCHYARD_VARIANTS.minimal}`,
  },
  {
    name: 'switchyard',
    engine: 'switchyard',
    describe: `Switchyard engine switchyard, ${SWITCHYARD_VARIANTS.full}`,
  },
  {
    name: 'switchyard-min',
    engine: 'switchyard',
    describe: `Switchyard engine switchyard, ${SWITCHYARD_VARIANTS.minimal}`,
  },
  {
    name: 'switchyard-baseline',
    engine: 'switchyard',
    describe:
      'the switchyard target run from another build, BENCH_BASELINE_DIST=<its dist/> ' +
      '(e.g. a worktree of the last commit): a change measured against its baseline in one run',
  },
  { name: 'haproxy', describe: `HAProxy, ${HAPROXY_VARIANTS.full}` },
  { name: 'haproxy-min', describe: `HAProxy, ${HAPROXY_VARIANTS.minimal}` },
];

export const DEFAULT_TARGETS = [
  'direct',
  'passthrough',
  'nodejs',
  'nodejs-min',
  'switchyard',
  'switchyard-min',
  'haproxy',
];

export interface StartContext {
  /** Backend ports (two; single-backend configs use the first). */
  readonly backends: readonly number[];
  readonly dir: string;
  /** The CPU a single-process proxy is pinned to. */
  readonly proxyCpu: number;
  /** The CPU h2load and the backends are pinned to. */
  readonly loadCpu: number;
  /** CPUs of the machine (the bench's affinity). */
  readonly cpuCount: number;
  readonly proxyNodeFlags: readonly string[];
  /** Node flags for `switchyard-baseline` (BENCH_BASELINE_NODE_FLAGS, else proxyNodeFlags). */
  readonly baselineNodeFlags: readonly string[];
  /** Printed once per target, e.g. HAProxy's cfg path. */
  note(line: string): void;
}

/** Starts a target; throws Unavailable when it cannot be measured in this run. */
export async function startTarget(instance: Instance, ctx: StartContext): Promise<RunningTarget> {
  const [first] = ctx.backends;
  if (first === undefined) throw new Error('no backend');
  const { target: name, label } = instance;
  switch (name) {
    case 'direct':
      return { port: first, pid: undefined, metricsUrl: undefined, stop: () => Promise.resolve() };
    case 'passthrough': {
      const dist = new URL('..', import.meta.url).pathname;
      const pass = await startReady(ctx.proxyCpu, [
        process.execPath,
        join(dist, 'bench/passthrough.js'),
        '0',
        String(first),
      ]);
      if (pass.child.pid === undefined) throw new Unavailable('did not start');
      return {
        port: pass.port,
        pid: pass.child.pid,
        metricsUrl: undefined,
        stop: () => stop(pass.child),
      };
    }
    case 'nodejs':
    case 'nodejs-min':
    case 'switchyard':
    case 'switchyard-min':
    case 'switchyard-baseline': {
      const baseline = name === 'switchyard-baseline';
      const dist = baseline ? process.env['BENCH_BASELINE_DIST'] : undefined;
      if (baseline && (dist === undefined || dist === '')) {
        throw new Unavailable('set BENCH_BASELINE_DIST to the dist/ of the build to compare with');
      }
      const [engine, min] = baseline ? ['switchyard', undefined] : name.split('-');
      const workers = instance.workers ?? 1;
      const cpus = proxyCpuList(workers, ctx.cpuCount, ctx.proxyCpu, ctx.loadCpu);
      const running = await startSwitchyard(
        {
          engine: engine === 'switchyard' ? 'switchyard' : 'nodejs',
          variant: min === undefined ? 'full' : 'minimal',
          backends: ctx.backends,
          dir: ctx.dir,
          cpu: cpus,
          workers,
          nodeFlags: baseline ? ctx.baselineNodeFlags : ctx.proxyNodeFlags,
          dist,
        },
        label.replace(/ ×/, '-x'),
      );
      if (ctx.proxyNodeFlags.length > 0) ctx.note(`${label}: proxy pid ${running.pid}`);
      if (workers > 1) ctx.note(`${label}: primary + ${workers} workers on CPUs ${cpus}`);
      return running;
    }
    case 'haproxy':
    case 'haproxy-min': {
      ctx.note(`${name}: ${haproxyVersion()}`);
      const running = await startHaproxy(
        name === 'haproxy' ? 'full' : 'minimal',
        ctx.backends,
        ctx.dir,
        ctx.proxyCpu,
      );
      ctx.note(`${name}: cfg ${running.configPath}`);
      return running;
    }
    default:
      throw new Error(`unknown target ${name}`);
  }
}
