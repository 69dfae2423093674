/**
 * A prom-client counter whose per-call increments go to a plain map and are
 * handed to prom-client at scrape (as `DirectionTotals` does for two
 * counters): `Counter.inc(labels)` hashes the label object (sorting its
 * names) and validates every label on each call, which costs more than the
 * sum. The exposition is the same: one series per label set, in the order
 * the sets were first counted.
 */
import { Counter, type Registry } from 'prom-client';

interface Total<L extends string> {
  readonly labels: Readonly<Record<L, string>>;
  value: number;
}

export interface SummedCounterSpec<L extends string> {
  readonly name: string;
  readonly help: string;
  readonly labelNames: readonly L[];
}

export class SummedCounter<L extends string> {
  readonly #totals = new Map<string, Total<L>>();

  constructor(registry: Registry, spec: SummedCounterSpec<L>) {
    const totals = this.#totals;
    new Counter<L>({
      name: spec.name,
      help: spec.help,
      labelNames: spec.labelNames,
      registers: [registry],
      collect() {
        this.reset();
        for (const total of totals.values()) this.inc({ ...total.labels }, total.value);
      },
    });
  }

  /**
   * Adds `value` (> 0) under `key`, which names `labels` by value (label
   * objects of one key need not be the same object; the first one is kept).
   */
  add(key: string, labels: Readonly<Record<L, string>>, value = 1): void {
    const total = this.#totals.get(key);
    if (total === undefined) this.#totals.set(key, { labels, value });
    else total.value += value;
  }

  /** Adds `value` under a `key` counted before; false (nothing added) for a new key. */
  increment(key: string, value = 1): boolean {
    const total = this.#totals.get(key);
    if (total === undefined) return false;
    total.value += value;
    return true;
  }
}
