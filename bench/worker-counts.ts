/**
 * `--workers 1,2`: every Switchyard target runs once per worker count (its
 * own proxy, started with `--workers N`), and which CPUs a proxy of N
 * workers may use. Other targets (direct, passthrough, HAProxy) run once.
 */
import { TARGETS } from './targets.js';

/** One measured thing: a target, and for Switchyard targets a worker count. */
export interface Instance {
  /** As the report names it: `switchyard`, or `switchyard ×2w` when worker counts are compared. */
  readonly label: string;
  readonly target: string;
  /** Worker processes (Switchyard targets only); 1 is the single process, no node:cluster. */
  readonly workers: number | undefined;
}

/** Parses a comma list of integers >= min (`1,2`, `50,2`); an error message if it is not one. */
export function parseCountList(text: string, min = 1): number[] | string {
  const parts = text.split(',').map((p) => p.trim());
  const values = parts.map(Number);
  const bad = parts.filter((p, i) => p === '' || !Number.isInteger(values[i]) || Number(p) < min);
  if (bad.length > 0 || parts.length === 0) {
    return `must be a comma list of integers >= ${min}, not ${JSON.stringify(text)}`;
  }
  return [...new Set(values)];
}

/** Targets × worker counts, in the order given. */
export function instances(targets: readonly string[], workers: readonly number[]): Instance[] {
  const labelled = workers.length > 1 || workers.some((n) => n !== 1);
  return targets.flatMap<Instance>((target) =>
    TARGETS.find((t) => t.name === target)?.engine === undefined
      ? [{ label: target, target, workers: undefined }]
      : workers.map((n) => ({ label: labelled ? `${target} ×${n}w` : target, target, workers: n })),
  );
}

/**
 * The `taskset -c` list for a proxy of `workers` worker processes: CPU
 * `proxyCpu` alone for one process; otherwise `workers` CPUs, taking CPUs
 * other than `loadCpu` first and `loadCpu` only when there are not enough
 * (on a 2-CPU machine, 2 workers get both CPUs and share the load CPU with
 * h2load and the backends). Never more CPUs than the machine has.
 */
export function proxyCpuList(
  workers: number,
  cpuCount: number,
  proxyCpu: number,
  loadCpu: number,
): string {
  if (workers <= 1) return String(proxyCpu);
  const all = Array.from({ length: cpuCount }, (_, i) => i);
  const preferred = [proxyCpu, ...all.filter((c) => c !== proxyCpu && c !== loadCpu), loadCpu];
  return preferred
    .slice(0, Math.min(workers, cpuCount))
    .sort((a, b) => a - b)
    .join(',');
}
