/**
 * Per-label totals of something that flows both ways (messages, bytes),
 * summed in plain cells on the data path and handed to two prom-client
 * counters at scrape: a label hash per call and direction would cost more
 * than the sum itself.
 */
import { Counter, type Registry } from 'prom-client';

/** One label set's running totals; callers may keep the cell and add to it directly. */
export interface DirectionCell<L extends string> {
  readonly labels: Readonly<Record<L, string>>;
  received: number;
  sent: number;
}

export interface CounterSpec {
  readonly name: string;
  readonly help: string;
}

export class DirectionTotals<L extends string> {
  readonly #totals = new Map<string, DirectionCell<L>>();

  /** Registers the `received` and `sent` counters, read from these totals at scrape. */
  constructor(
    registry: Registry,
    labelNames: readonly L[],
    counters: { readonly received: CounterSpec; readonly sent: CounterSpec },
  ) {
    const totals = this.#totals;
    for (const direction of ['received', 'sent'] as const) {
      new Counter<L>({
        ...counters[direction],
        labelNames,
        registers: [registry],
        collect() {
          this.reset();
          for (const total of totals.values()) this.inc({ ...total.labels }, total[direction]);
        },
      });
    }
  }

  /** The cell of `key`, undefined until `cell` made it: lets callers skip building labels. */
  find(key: string): DirectionCell<L> | undefined {
    return this.#totals.get(key);
  }

  /**
   * The cell of `key`, which names `labels` by value (label objects of one
   * key need not be the same object; the first one is kept). A new cell is
   * exposed (at 0) from the next scrape on.
   */
  cell(key: string, labels: Readonly<Record<L, string>>): DirectionCell<L> {
    let total = this.#totals.get(key);
    if (total === undefined) {
      total = { labels, received: 0, sent: 0 };
      this.#totals.set(key, total);
    }
    return total;
  }
}
