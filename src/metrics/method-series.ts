/**
 * Everything a gRPC call on one method (one `grpc_service`/`grpc_method`
 * label set) adds to, resolved once: the started and handled counters'
 * cells, the handling-time histogram's and the message totals'. A call then
 * costs a few property reads and additions instead of building keys and
 * looking them up. Cells are made on first use, so a series still appears
 * in /metrics only once something was counted in it, in the same order.
 */
import type { DirectionCell, DirectionTotals } from './direction-totals.js';
import { GRPC_CODE_LABELS, grpcCodeIndex } from './grpc-code-labels.js';
import type { GrpcMethodLabels } from './grpc-method-labels.js';
import type { CounterCell, SummedCounter } from './summed-counter.js';
import type { HistogramCell, SummedHistogram } from './summed-histogram.js';

export type MethodLabel = 'grpc_service' | 'grpc_method';

/** The per-method metrics, shared by every MethodSeries of one CallMetrics. */
export interface MethodMetrics {
  readonly started: SummedCounter<MethodLabel>;
  readonly handled: SummedCounter<MethodLabel | 'grpc_code'>;
  readonly handling: SummedHistogram<MethodLabel>;
  readonly messages: DirectionTotals<MethodLabel>;
}

export class MethodSeries {
  readonly #metrics: MethodMetrics;
  readonly #labels: GrpcMethodLabels;
  /** The label set by value (names are path segments: no newline), as the metrics key it. */
  readonly #key: string;
  #started: CounterCell<MethodLabel> | undefined;
  /** By grpcCodeIndex. */
  readonly #handled: (CounterCell<MethodLabel | 'grpc_code'> | undefined)[] = GRPC_CODE_LABELS.map(
    () => undefined,
  );
  #handling: HistogramCell<MethodLabel> | undefined;
  #messages: DirectionCell<MethodLabel> | undefined;

  constructor(metrics: MethodMetrics, labels: GrpcMethodLabels) {
    this.#metrics = metrics;
    this.#labels = labels;
    this.#key = methodKey(labels);
  }

  started(): void {
    this.#started ??= this.#metrics.started.cell(this.#key, this.#labels);
    this.#started.value++;
  }

  finished(grpcStatus: number | undefined, seconds: number, received: number, sent: number): void {
    const code = grpcCodeIndex(grpcStatus);
    let handled = this.#handled[code];
    if (handled === undefined) {
      const name = GRPC_CODE_LABELS[code] ?? 'UNKNOWN';
      handled = this.#metrics.handled.cell(`${this.#key}\n${name}`, {
        ...this.#labels,
        grpc_code: name,
      });
      this.#handled[code] = handled;
    }
    handled.value++;
    this.#handling ??= this.#metrics.handling.cell(this.#key, this.#labels);
    this.#metrics.handling.observe(this.#handling, seconds);
    this.#messages ??= this.#metrics.messages.cell(this.#key, this.#labels);
    this.#messages.received += received;
    this.#messages.sent += sent;
  }
}

/** A method's labels by value. */
export function methodKey(labels: GrpcMethodLabels): string {
  return `${labels.grpc_service}\n${labels.grpc_method}`;
}
