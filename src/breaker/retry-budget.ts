/**
 * A cluster's retry budget: retries in flight may not exceed
 * `budgetPercent` of the cluster's active calls, with a floor of
 * `minConcurrency` (so a quiet cluster can still retry), and never more than
 * `maxRetries` (`circuit_breaker.max_retries`) when that is set. In an outage
 * every call fails and wants a retry; the budget keeps the extra load at a
 * fraction of the real one instead of a multiple (Envoy's retry_budget,
 * Linkerd's retry budget, Finagle's RetryBudget).
 *
 * A call holds at most one retry slot at a time: from the moment it decides
 * to retry until it commits, decides again, or ends.
 */
export interface RetryBudgetSettings {
  readonly budgetPercent: number;
  readonly minConcurrency: number;
  /** A fixed cap as well; undefined for none. */
  readonly maxRetries: number | undefined;
}

export type RetryRefusal = 'retry_budget' | 'max_retries';

export class RetryBudget {
  readonly settings: RetryBudgetSettings;
  #inFlight = 0;
  #refused: Record<RetryRefusal, number> = { retry_budget: 0, max_retries: 0 };

  constructor(settings: RetryBudgetSettings) {
    this.settings = settings;
  }

  get inFlight(): number {
    return this.#inFlight;
  }

  /** Retries refused since creation, by which limit refused them. */
  get refused(): Readonly<Record<RetryRefusal, number>> {
    return this.#refused;
  }

  /** Retries allowed in flight while `activeCalls` calls are active. */
  allowed(activeCalls: number): number {
    const budget = this.#budget(activeCalls);
    const maxRetries = this.settings.maxRetries;
    return maxRetries === undefined ? budget : Math.min(budget, maxRetries);
  }

  /** The percentage's share of the active calls, at least the floor. */
  #budget(activeCalls: number): number {
    const { budgetPercent, minConcurrency } = this.settings;
    return Math.max(minConcurrency, Math.floor((activeCalls * budgetPercent) / 100));
  }

  /** Whether a retry would be admitted now (nothing taken). */
  wouldAdmit(activeCalls: number): boolean {
    return this.#inFlight < this.allowed(activeCalls);
  }

  /** Takes a retry slot; on refusal counts which limit refused and returns it. */
  tryAcquire(activeCalls: number): RetryRefusal | undefined {
    if (this.wouldAdmit(activeCalls)) {
      this.#inFlight++;
      return undefined;
    }
    const maxRetries = this.settings.maxRetries;
    const refusal: RetryRefusal =
      maxRetries !== undefined && maxRetries < this.#budget(activeCalls)
        ? 'max_retries'
        : 'retry_budget';
    this.#refused[refusal]++;
    return refusal;
  }

  release(): void {
    if (this.#inFlight > 0) this.#inFlight--;
  }
}
