/** What the report shows of each row: medians over its rounds, ratios, the worker spread. */

export interface RoundResult {
  readonly callsPerSec: number;
  readonly calls: number;
  readonly p50Ms: number;
  readonly p99Ms: number;
  /** Proxy CPU seconds (its whole process tree) during the unary run; undefined for direct. */
  readonly proxyCpuSeconds: number | undefined;
  readonly callsPerCpuSecond: number | undefined;
  /** The mid-run metrics scrape ("ok N B", "HTTP 500", "failed: ..."), if the target has one. */
  readonly metricsScrape: string | undefined;
  readonly streamMBps?: number | undefined;
  readonly streamMBPerCpuSecond?: number | undefined;
  /** Calls each worker started during the unary run (workers > 1), from /metrics. */
  readonly workerSpread?: readonly WorkerShare[] | undefined;
}

export interface WorkerShare {
  readonly worker: string;
  readonly calls: number;
  readonly share: number;
}

export type Outcome =
  | { readonly status: 'unavailable'; readonly reason: string }
  | { readonly status: 'measured'; readonly rounds: readonly (RoundResult | { error: string })[] };

/** One row: an instance (target × worker count) under one connection count. */
export interface Entry {
  /** `switchyard`, or `switchyard ×2w` when worker counts are compared. */
  readonly name: string;
  readonly target: string;
  readonly workers: number | undefined;
  readonly connections: number;
  readonly outcome: Outcome;
}

export interface Medians {
  readonly callsPerSec: number;
  readonly p50Ms: number;
  readonly p99Ms: number;
  readonly callsPerCpuSecond: number | undefined;
  readonly streamMBps: number | undefined;
  readonly streamMBPerCpuSecond: number | undefined;
}

export interface Row extends Entry {
  readonly ok: readonly RoundResult[];
  readonly errors: readonly string[];
  readonly medians: Medians | undefined;
  /** calls/s over direct's (same connection count). */
  readonly vsDirect: number | undefined;
  /** calls per CPU-second over the first nodejs row's (same connection count). */
  readonly vsNodejs: number | undefined;
  /** Calls per worker summed over the row's rounds; empty for one process. */
  readonly spread: readonly WorkerShare[];
}

export function median(values: readonly (number | undefined)[]): number | undefined {
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

/** The calls of every round added up per worker, with each worker's share of them. */
export function totalSpread(rounds: readonly RoundResult[]): WorkerShare[] {
  const calls = new Map<string, number>();
  for (const share of rounds.flatMap((r) => r.workerSpread ?? [])) {
    calls.set(share.worker, (calls.get(share.worker) ?? 0) + share.calls);
  }
  const total = [...calls.values()].reduce((a, b) => a + b, 0);
  return [...calls]
    .map(([worker, n]) => ({ worker, calls: n, share: total === 0 ? 0 : n / total }))
    .sort((a, b) => Number(a.worker) - Number(b.worker));
}

export const ratio = (a: number | undefined, b: number | undefined): number | undefined =>
  a === undefined || b === undefined || b === 0 ? undefined : a / b;

export function summarize(entries: readonly Entry[]): Row[] {
  const rows = entries.map((entry) => {
    const { outcome } = entry;
    const ok =
      outcome.status === 'measured'
        ? outcome.rounds.filter((x): x is RoundResult => !('error' in x))
        : [];
    const errors =
      outcome.status === 'measured'
        ? outcome.rounds.flatMap((x) => ('error' in x ? [x.error] : []))
        : [];
    return { ...entry, ok, errors, medians: medians(ok), spread: totalSpread(ok) };
  });
  return rows.map((row) => {
    const same = rows.filter((x) => x.connections === row.connections);
    const direct = same.find((x) => x.target === 'direct')?.medians;
    const nodejs = same.find((x) => x.target === 'nodejs')?.medians;
    return {
      ...row,
      vsDirect: ratio(row.medians?.callsPerSec, direct?.callsPerSec),
      vsNodejs: ratio(row.medians?.callsPerCpuSecond, nodejs?.callsPerCpuSecond),
    };
  });
}
