/** Several OutcomeSinks as one: each finished call goes to every sink, in order. */
import type { CallOutcome, OutcomeSink } from './call-outcome.js';

export class OutcomeSinks implements OutcomeSink {
  readonly #sinks: readonly OutcomeSink[];

  constructor(sinks: readonly OutcomeSink[]) {
    this.#sinks = sinks;
  }

  record(outcome: CallOutcome): void {
    for (const sink of this.#sinks) sink.record(outcome);
  }
}
