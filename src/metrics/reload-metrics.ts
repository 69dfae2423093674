/**
 * Config reload counters (docs/metrics.md): every attempt, the refused ones,
 * and when the running config last changed successfully.
 */
import { Counter, Gauge, type Registry } from 'prom-client';

export class ReloadMetrics {
  readonly #reloads: Counter<'result'>;
  readonly #failures: Counter;
  readonly #lastSuccess: Gauge;

  constructor(registry: Registry) {
    this.#reloads = new Counter({
      name: 'switchyard_config_reloads_total',
      help: 'Config reload attempts, by result (applied, unchanged or refused).',
      labelNames: ['result'],
      registers: [registry],
    });
    for (const result of ['applied', 'unchanged', 'refused']) this.#reloads.inc({ result }, 0);
    this.#failures = new Counter({
      name: 'switchyard_config_reload_failures_total',
      help: 'Config reloads refused (invalid config or a listener that could not bind); the running config stayed.',
      registers: [registry],
    });
    this.#lastSuccess = new Gauge({
      name: 'switchyard_config_last_reload_success_timestamp_seconds',
      help: 'Unix time the running config was loaded (start-up or the last applied reload).',
      registers: [registry],
    });
  }

  applied(at: Date): void {
    this.#reloads.inc({ result: 'applied' });
    this.loaded(at);
  }

  /** The running config was loaded at `at` (start-up). */
  loaded(at: Date): void {
    this.#lastSuccess.set(at.getTime() / 1000);
  }

  unchanged(): void {
    this.#reloads.inc({ result: 'unchanged' });
  }

  refused(): void {
    this.#reloads.inc({ result: 'refused' });
    this.#failures.inc();
  }
}
