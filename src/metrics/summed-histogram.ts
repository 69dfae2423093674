/**
 * A prom-client histogram whose per-call observations go to plain cells
 * (bucket counts, sum, count) and are handed to prom-client at scrape, in
 * the spirit of SummedCounter: `Histogram.observe(labels, v)` validates and
 * hashes the label object on every call, which costs more than the
 * counting. prom-client still writes the exposition (and the JSON the
 * workers aggregate) from the same per-series state it would have built
 * itself, so the output is the same: one series per label set in the order
 * first observed, the configured `le` bounds, the sum added up in the same
 * order. test/unit/summed-histogram.test.ts holds it to a plain Histogram.
 */
import { Histogram, type Registry } from 'prom-client';

/** One series' running state; callers keep the cell and pass it to `observe`. */
export interface HistogramCell<L extends string> {
  readonly labels: Readonly<Record<L, string>>;
  /** Observations per bucket (not cumulative), in the order of the bounds. */
  readonly counts: number[];
  sum: number;
  count: number;
}

export interface SummedHistogramSpec<L extends string> {
  readonly name: string;
  readonly help: string;
  readonly labelNames: readonly L[];
  /** Upper bounds, ascending (as prom-client takes them). */
  readonly buckets: readonly number[];
}

/**
 * prom-client's per-series state of a Histogram (lib/histogram.js): what
 * `observe` builds and `get` reads. Not in its typings, hence this shape;
 * the unit test fails if a prom-client release changes it.
 */
interface SeriesState {
  readonly labels: Record<string, string>;
  readonly bucketValues: Record<number, number>;
  readonly sum: number;
  readonly count: number;
}

export class SummedHistogram<L extends string> {
  readonly #cells = new Map<string, HistogramCell<L>>();
  readonly #bounds: readonly number[];

  constructor(registry: Registry, spec: SummedHistogramSpec<L>) {
    const cells = this.#cells;
    const bounds = [...spec.buckets];
    this.#bounds = bounds;
    new Histogram<L>({
      name: spec.name,
      help: spec.help,
      labelNames: spec.labelNames,
      buckets: [...bounds],
      registers: [registry],
      collect() {
        const series: Record<string, SeriesState> = {};
        let i = 0;
        for (const cell of cells.values()) {
          const bucketValues: Record<number, number> = {};
          bounds.forEach((bound, b) => (bucketValues[bound] = cell.counts[b] ?? 0));
          // Any unique key that is not an array index keeps the insertion order.
          series[`s${i++}`] = {
            labels: { ...cell.labels },
            bucketValues,
            sum: cell.sum,
            count: cell.count,
          };
        }
        (this as unknown as { hashMap: Record<string, SeriesState> }).hashMap = series;
      },
    });
  }

  /**
   * The cell of `key`, which names `labels` by value (the first labels object
   * is kept). A new cell is exposed (empty) from the next scrape on.
   */
  cell(key: string, labels: Readonly<Record<L, string>>): HistogramCell<L> {
    let cell = this.#cells.get(key);
    if (cell === undefined) {
      cell = { labels, counts: this.#bounds.map(() => 0), sum: 0, count: 0 };
      this.#cells.set(key, cell);
    }
    return cell;
  }

  /**
   * Counts `value` in `cell`, as prom-client would: in the first bucket
   * whose bound is at least `value` (none past the last: only +Inf, which
   * is `count`). A non-finite value is dropped where prom-client throws: a
   * sink must not fail the call's other sinks, nor make the sum NaN.
   */
  observe(cell: HistogramCell<L>, value: number): void {
    if (!Number.isFinite(value)) return;
    const bounds = this.#bounds;
    const counts = cell.counts;
    for (let b = 0; b < bounds.length; b++) {
      if (value <= (bounds[b] ?? Infinity)) {
        counts[b] = (counts[b] ?? 0) + 1;
        break;
      }
    }
    cell.sum += value;
    cell.count++;
  }
}
