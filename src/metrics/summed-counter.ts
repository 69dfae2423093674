/**
 * A prom-client counter whose per-call increments go to plain cells and are
 * handed to prom-client at scrape (as `DirectionTotals` does for two
 * counters): `Counter.inc(labels)` hashes the label object (sorting its
 * names) and validates every label on each call, which costs more than the
 * sum. The exposition is the same: one series per label set, in the order
 * the sets were first counted.
 */
import { Counter, type Registry } from 'prom-client';

/**
 * One series' running total. Callers may keep the cell and add to `value`
 * directly (a property write per call instead of a map lookup by key).
 */
export interface CounterCell<L extends string> {
  readonly labels: Readonly<Record<L, string>>;
  value: number;
}

export interface SummedCounterSpec<L extends string> {
  readonly name: string;
  readonly help: string;
  readonly labelNames: readonly L[];
}

export class SummedCounter<L extends string> {
  readonly #totals = new Map<string, CounterCell<L>>();

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
   * The cell of `key`, which names `labels` by value (label objects of one
   * key need not be the same object; the first one is kept). A new cell is
   * exposed from the next scrape on, even at 0: add to it before yielding.
   */
  cell(key: string, labels: Readonly<Record<L, string>>): CounterCell<L> {
    let total = this.#totals.get(key);
    if (total === undefined) {
      total = { labels, value: 0 };
      this.#totals.set(key, total);
    }
    return total;
  }
}
