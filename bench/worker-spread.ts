/**
 * How the calls of a run spread over a proxy's workers: the aggregated
 * `/metrics` of the primary has `switchyard_worker_calls_started_total{worker}`
 * (docs/workers.md); the bench reads it before and after a run.
 */

const METRIC = 'switchyard_worker_calls_started_total';

/** Calls started per worker id, from Prometheus text. Empty without the metric (one process). */
export function parseWorkerCalls(text: string): Map<string, number> {
  const calls = new Map<string, number>();
  const line = new RegExp(`^${METRIC}\\{[^}]*worker="([^"]+)"[^}]*\\}\\s+(\\S+)`);
  for (const row of text.split('\n')) {
    const match = line.exec(row);
    const value = Number(match?.[2]);
    if (match?.[1] !== undefined && Number.isFinite(value)) calls.set(match[1], value);
  }
  return calls;
}

/** Each worker's share (0..1) of the calls started between two readings, by worker id. */
export function spread(
  before: ReadonlyMap<string, number>,
  after: ReadonlyMap<string, number>,
): { readonly worker: string; readonly calls: number; readonly share: number }[] {
  const deltas = [...after].map(([worker, n]) => ({
    worker,
    calls: Math.max(0, n - (before.get(worker) ?? 0)),
  }));
  const total = deltas.reduce((sum, d) => sum + d.calls, 0);
  return deltas
    .sort((a, b) => Number(a.worker) - Number(b.worker) || a.worker.localeCompare(b.worker))
    .map((d) => ({ ...d, share: total === 0 ? 0 : d.calls / total }));
}

/** Reads the per-worker call counts; undefined if /metrics cannot be read. */
export async function readWorkerCalls(url: string): Promise<Map<string, number> | undefined> {
  try {
    const response = await fetch(url);
    const text = await response.text();
    return response.status === 200 ? parseWorkerCalls(text) : undefined;
  } catch {
    return undefined;
  }
}

/** `62/38 %`: each worker's share in worker order; undefined for fewer than 2 workers. */
export function formatSpread(shares: readonly { readonly share: number }[]): string | undefined {
  if (shares.length < 2) return undefined;
  return `${shares.map((s) => (s.share * 100).toFixed(0)).join('/')} %`;
}
