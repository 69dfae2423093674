/**
 * The per-call counters of one cluster, resolved once: its attempts and
 * retries cells and, per endpoint label and outcome source, its
 * `switchyard_upstream_calls_total` cell. A call then costs two map lookups
 * by strings the proxy keeps (cluster name, endpoint address: their hashes
 * are cached) instead of a `cluster\nendpoint\nsource` key built and hashed
 * per call. Cells are made on first use, so series appear in /metrics in
 * the same order as before. Bounded like the counters themselves: the
 * clusters and endpoints ever seen.
 */
import type { OutcomeSource } from '../outcome/call-outcome.js';
import type { CounterCell, SummedCounter } from './summed-counter.js';

export type CallsLabel = 'cluster' | 'endpoint' | 'source';

/** The per-cluster counters, shared by every ClusterSeries of one CallMetrics. */
export interface ClusterMetrics {
  readonly calls: SummedCounter<CallsLabel>;
  readonly attempts: SummedCounter<'cluster'>;
  readonly retries: SummedCounter<'cluster'>;
}

const SOURCES: readonly OutcomeSource[] = ['upstream', 'local', 'cancelled'];

type CallsCells = (CounterCell<CallsLabel> | undefined)[];

export class ClusterSeries {
  readonly #metrics: ClusterMetrics;
  readonly #cluster: string;
  readonly #labels: { readonly cluster: string };
  #attempts: CounterCell<'cluster'> | undefined;
  #retries: CounterCell<'cluster'> | undefined;
  /** By endpoint label, then by index in SOURCES. */
  readonly #calls = new Map<string, CallsCells>();

  constructor(metrics: ClusterMetrics, cluster: string) {
    this.#metrics = metrics;
    this.#cluster = cluster;
    this.#labels = { cluster };
  }

  /** One call routed here: its last attempt's endpoint label, who answered, and its tries. */
  called(endpoint: string, source: OutcomeSource, attempts: number, retries: number): void {
    let cells = this.#calls.get(endpoint);
    if (cells === undefined) {
      cells = SOURCES.map(() => undefined);
      this.#calls.set(endpoint, cells);
    }
    const index = SOURCES.indexOf(source);
    let calls = cells[index];
    if (calls === undefined) {
      const cluster = this.#cluster;
      const labels = { cluster, endpoint, source };
      calls = this.#metrics.calls.cell(`${cluster}\n${endpoint}\n${source}`, labels);
      cells[index] = calls;
    }
    calls.value++;
    if (attempts > 0) {
      this.#attempts ??= this.#metrics.attempts.cell(this.#cluster, this.#labels);
      this.#attempts.value += attempts;
    }
    if (retries > 0) {
      this.#retries ??= this.#metrics.retries.cell(this.#cluster, this.#labels);
      this.#retries.value += retries;
    }
  }
}
