/** The bench's output: a table of medians over rounds per connection count, the configs, then one JSON line. */
import type { Options } from './options.js';
import { reportJson } from './report-json.js';
import { summarize, type Entry, type Row } from './report-summary.js';
import { TARGETS } from './targets.js';
import { formatSpread } from './worker-spread.js';

export type { Entry, Outcome, RoundResult } from './report-summary.js';

export interface Report {
  readonly startedAt: Date;
  readonly options: Options;
  readonly grpcTimeout: string;
  readonly proxyCpu: number;
  readonly loadCpu: number;
  /** CPUs of a proxy with workers > 1, by worker count (`taskset -c` lists). */
  readonly workerCpus: readonly { readonly workers: number; readonly cpus: string }[];
  readonly outcomes: readonly Entry[];
  readonly notes: readonly string[];
}

const fmt = (n: number | undefined, digits = 0): string =>
  n === undefined || !Number.isFinite(n) ? '-' : n.toFixed(digits);

const NAME = 20;

const HEADER = [
  'target'.padEnd(NAME),
  'calls/s'.padStart(9),
  'x direct'.padStart(9),
  'p50 ms'.padStart(7),
  'p99 ms'.padStart(7),
  'calls/CPU-s'.padStart(12),
  'x nodejs'.padStart(9),
  'stream MB/s'.padStart(12),
  'MB/CPU-s'.padStart(9),
  'workers %'.padStart(10),
  'rounds'.padStart(7),
].join(' ');

function line(x: Row): string {
  const m = x.medians;
  if (m === undefined) {
    const why =
      x.outcome.status === 'unavailable'
        ? `unavailable: ${x.outcome.reason}`
        : `failed: ${x.errors[0] ?? 'no rounds'}`;
    return `${x.name.padEnd(NAME)} ${why}`;
  }
  return [
    x.name.padEnd(NAME),
    fmt(m.callsPerSec).padStart(9),
    fmt(x.vsDirect, 2).padStart(9),
    fmt(m.p50Ms, 2).padStart(7),
    fmt(m.p99Ms, 2).padStart(7),
    fmt(m.callsPerCpuSecond).padStart(12),
    fmt(x.vsNodejs, 2).padStart(9),
    fmt(m.streamMBps, 1).padStart(12),
    fmt(m.streamMBPerCpuSecond, 1).padStart(9),
    (formatSpread(x.spread)?.replace(' %', '') ?? '-').padStart(10),
    `${x.ok.length}/${x.ok.length + x.errors.length}`.padStart(7),
  ].join(' ');
}

function placement(r: Report): string {
  const workers = r.workerCpus.map((w) => `×${w.workers}w on CPUs ${w.cpus}`);
  return (
    `proxy on CPU ${r.proxyCpu}` +
    (workers.length > 0 ? ` (${workers.join(', ')}: primary + workers)` : '') +
    `, backends (${r.options.backend} engine) + h2load on CPU ${r.loadCpu}`
  );
}

export function report(r: Report): void {
  const rows = summarize(r.outcomes);
  const o = r.options;
  const lines: string[] = [];
  for (const connections of o.connections) {
    const streams = o.streamMessages > 0 && connections === o.connections[0];
    lines.push(
      `unary: h2load -c ${connections} -m ${o.streams} ` +
        (o.requests === undefined ? `-D ${o.duration}s` : `-n ${o.requests}`) +
        `, grpc-timeout ${r.grpcTimeout}; medians of ${o.rounds} interleaved round(s); ` +
        placement(r) +
        (streams ? `; streams: 8 x ${o.streamMessages} x 1 KiB on 1 connection` : ''),
      '',
      HEADER,
      ...rows.filter((x) => x.connections === connections).map(line),
      '',
    );
  }
  lines.push(
    'x direct: calls/s over direct’s; x nodejs: calls per proxy CPU-second over nodejs’s',
    '(same connection count; direct has no proxy). CPU = utime + stime of the proxy’s whole',
    'process tree (primary + workers) during the unary run. workers %: each worker’s share of',
    'the calls (switchyard_worker_calls_started_total), summed over rounds.',
    '',
    'configs:',
  );
  for (const target of o.targets) {
    const spec = TARGETS.find((t) => t.name === target);
    if (spec !== undefined) lines.push(`  ${target.padEnd(NAME)} ${spec.describe}`);
  }
  const failures = rows.flatMap((x) =>
    x.errors.map((e) => `  ${x.name} -c ${x.connections}: ${e}`),
  );
  if (failures.length > 0) lines.push('', 'failed rounds:', ...failures);
  const scrapes = rows.flatMap((x) =>
    x.ok.some((s) => s.metricsScrape !== undefined)
      ? [`  ${x.name} -c ${x.connections}: ${x.ok.map((s) => s.metricsScrape ?? '-').join(', ')}`]
      : [],
  );
  if (scrapes.length > 0) lines.push('', 'mid-run /metrics scrapes:', ...scrapes);
  if (r.notes.length > 0) lines.push('', 'notes:', ...r.notes.map((n) => `  ${n}`));
  process.stdout.write(`${lines.join('\n')}\n\n${reportJson(r, rows)}\n`);
}
