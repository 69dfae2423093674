/** The bench's output: a table of medians over rounds, the configs, then one JSON line. */
import type { Options } from './run.js';
import { TARGETS } from './targets.js';

export interface RoundResult {
  readonly callsPerSec: number;
  readonly calls: number;
  readonly p50Ms: number;
  readonly p99Ms: number;
  /** Proxy CPU seconds during the unary run; undefined for direct. */
  readonly proxyCpuSeconds: number | undefined;
  readonly callsPerCpuSecond: number | undefined;
  /** The mid-run metrics scrape ("ok N B", "HTTP 500", "failed: ..."), if the target has one. */
  readonly metricsScrape: string | undefined;
  readonly streamMBps?: number | undefined;
  readonly streamMBPerCpuSecond?: number | undefined;
}

export type Outcome =
  | { readonly status: 'unavailable'; readonly reason: string }
  | { readonly status: 'measured'; readonly rounds: readonly (RoundResult | { error: string })[] };

export interface Report {
  readonly startedAt: Date;
  readonly options: Options;
  readonly grpcTimeout: string;
  readonly proxyCpu: number;
  readonly loadCpu: number;
  readonly outcomes: readonly { readonly name: string; readonly outcome: Outcome }[];
  readonly notes: readonly string[];
}

interface Medians {
  readonly callsPerSec: number;
  readonly p50Ms: number;
  readonly p99Ms: number;
  readonly callsPerCpuSecond: number | undefined;
  readonly streamMBps: number | undefined;
  readonly streamMBPerCpuSecond: number | undefined;
}

function median(values: readonly (number | undefined)[]): number | undefined {
  const sorted = values
    .filter((v): v is number => v !== undefined && Number.isFinite(v))
    .sort((a, b) => a - b);
  if (sorted.length === 0) return undefined;
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1
    ? sorted[mid]
    : ((sorted[mid - 1] ?? NaN) + (sorted[mid] ?? NaN)) / 2;
}

function medians(rounds: readonly RoundResult[]): Medians | undefined {
  if (rounds.length === 0) return undefined;
  return {
    callsPerSec: median(rounds.map((r) => r.callsPerSec)) ?? NaN,
    p50Ms: median(rounds.map((r) => r.p50Ms)) ?? NaN,
    p99Ms: median(rounds.map((r) => r.p99Ms)) ?? NaN,
    callsPerCpuSecond: median(rounds.map((r) => r.callsPerCpuSecond)),
    streamMBps: median(rounds.map((r) => r.streamMBps)),
    streamMBPerCpuSecond: median(rounds.map((r) => r.streamMBPerCpuSecond)),
  };
}

const round = (n: number | undefined, digits: number): number | null =>
  n === undefined || !Number.isFinite(n) ? null : Number(n.toFixed(digits));

const fmt = (n: number | undefined, digits = 0): string =>
  n === undefined || !Number.isFinite(n) ? '-' : n.toFixed(digits);

const ratio = (a: number | undefined, b: number | undefined): number | undefined =>
  a === undefined || b === undefined || b === 0 ? undefined : a / b;

export function report(r: Report): void {
  const results = r.outcomes.map(({ name, outcome }) => {
    const ok =
      outcome.status === 'measured'
        ? outcome.rounds.filter((x): x is RoundResult => !('error' in x))
        : [];
    const errors =
      outcome.status === 'measured'
        ? outcome.rounds.flatMap((x) => ('error' in x ? [x.error] : []))
        : [];
    return { name, outcome, ok, errors, medians: medians(ok) };
  });
  const of = (name: string): Medians | undefined => results.find((x) => x.name === name)?.medians;
  const direct = of('direct');
  const nodejs = of('nodejs');

  const header = [
    'target'.padEnd(15),
    'calls/s'.padStart(9),
    'x direct'.padStart(9),
    'p50 ms'.padStart(7),
    'p99 ms'.padStart(7),
    'calls/CPU-s'.padStart(12),
    'x nodejs'.padStart(9),
    'stream MB/s'.padStart(12),
    'MB/CPU-s'.padStart(9),
    'rounds'.padStart(7),
  ].join(' ');
  const lines = [
    `unary: h2load -c ${r.options.connections} -m ${r.options.streams} ` +
      (r.options.requests === undefined
        ? `-D ${r.options.duration}s`
        : `-n ${r.options.requests}`) +
      `, grpc-timeout ${r.grpcTimeout}; medians of ${r.options.rounds} interleaved round(s); ` +
      `proxy on CPU ${r.proxyCpu}, backends + h2load on CPU ${r.loadCpu}` +
      (r.options.streamMessages > 0 ? `; streams: 8 x ${r.options.streamMessages} x 1 KiB` : ''),
    '',
    header,
  ];
  for (const x of results) {
    const m = x.medians;
    if (m === undefined) {
      const why =
        x.outcome.status === 'unavailable'
          ? `unavailable: ${x.outcome.reason}`
          : `failed: ${x.errors[0] ?? 'no rounds'}`;
      lines.push(`${x.name.padEnd(15)} ${why}`);
      continue;
    }
    lines.push(
      [
        x.name.padEnd(15),
        fmt(m.callsPerSec).padStart(9),
        fmt(ratio(m.callsPerSec, direct?.callsPerSec), 2).padStart(9),
        fmt(m.p50Ms, 2).padStart(7),
        fmt(m.p99Ms, 2).padStart(7),
        fmt(m.callsPerCpuSecond).padStart(12),
        fmt(ratio(m.callsPerCpuSecond, nodejs?.callsPerCpuSecond), 2).padStart(9),
        fmt(m.streamMBps, 1).padStart(12),
        fmt(m.streamMBPerCpuSecond, 1).padStart(9),
        `${x.ok.length}/${x.ok.length + x.errors.length}`.padStart(7),
      ].join(' '),
    );
  }
  lines.push(
    '',
    'x direct: calls/s over direct’s; x nodejs: calls per proxy CPU-second over nodejs’s',
    '(direct has no proxy). CPU = utime + stime of the proxy process during the unary run.',
    '',
    'configs:',
  );
  for (const x of results) {
    const spec = TARGETS.find((t) => t.name === x.name);
    if (spec !== undefined) lines.push(`  ${x.name.padEnd(15)} ${spec.describe}`);
  }
  const failures = results.flatMap((x) => x.errors.map((e) => `  ${x.name}: ${e}`));
  if (failures.length > 0) lines.push('', 'failed rounds:', ...failures);
  const scrapes = results.flatMap((x) =>
    x.ok.flatMap((o) => (o.metricsScrape === undefined ? [] : [o.metricsScrape])).length > 0
      ? [`  ${x.name}: ${x.ok.map((o) => o.metricsScrape ?? '-').join(', ')}`]
      : [],
  );
  if (scrapes.length > 0) lines.push('', 'mid-run /metrics scrapes:', ...scrapes);
  if (r.notes.length > 0) lines.push('', 'notes:', ...r.notes.map((n) => `  ${n}`));

  const json = {
    bench: 'switchyard-unary',
    startedAt: r.startedAt.toISOString(),
    options: { ...r.options, grpcTimeout: r.grpcTimeout },
    cpus: { proxy: r.proxyCpu, load: r.loadCpu },
    results: results.map((x) => ({
      target: x.name,
      config: TARGETS.find((t) => t.name === x.name)?.describe,
      status:
        x.outcome.status === 'unavailable'
          ? 'unavailable'
          : x.medians === undefined
            ? 'failed'
            : 'ok',
      ...(x.outcome.status === 'unavailable' ? { reason: x.outcome.reason } : {}),
      ...(x.errors.length > 0 ? { errors: x.errors } : {}),
      ...(x.medians === undefined
        ? {}
        : {
            median: {
              callsPerSec: round(x.medians.callsPerSec, 0),
              p50Ms: round(x.medians.p50Ms, 3),
              p99Ms: round(x.medians.p99Ms, 3),
              callsPerCpuSecond: round(x.medians.callsPerCpuSecond, 0),
              streamMBps: round(x.medians.streamMBps, 2),
              streamMBPerCpuSecond: round(x.medians.streamMBPerCpuSecond, 2),
            },
            callsPerSecVsDirect: round(ratio(x.medians.callsPerSec, direct?.callsPerSec), 3),
            callsPerCpuSecondVsNodejs: round(
              ratio(x.medians.callsPerCpuSecond, nodejs?.callsPerCpuSecond),
              3,
            ),
          }),
      rounds: x.ok.map((o) => ({
        callsPerSec: round(o.callsPerSec, 0),
        calls: o.calls,
        p50Ms: round(o.p50Ms, 3),
        p99Ms: round(o.p99Ms, 3),
        proxyCpuSeconds: round(o.proxyCpuSeconds, 2),
        callsPerCpuSecond: round(o.callsPerCpuSecond, 0),
        streamMBps: round(o.streamMBps, 2),
        streamMBPerCpuSecond: round(o.streamMBPerCpuSecond, 2),
      })),
    })),
  };
  process.stdout.write(`${lines.join('\n')}\n\n${JSON.stringify(json)}\n`);
}
