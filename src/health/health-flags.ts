/**
 * An endpoint's health as a set of flags, one per source. Each source sets
 * and clears only its own flag; the balancer asks only `available`. This keeps
 * an active health check from clearing an outlier ejection, and so on.
 *
 * `connect_failure` belongs to the endpoint's session pool: set while the
 * pool is in reconnect back-off with no usable connection, cleared when a
 * connection succeeds.
 */
export type HealthSource = 'active_check' | 'outlier' | 'breaker' | 'draining' | 'connect_failure';

/** Every health source, in a fixed order (admin views, metrics). */
export const HEALTH_SOURCES: readonly HealthSource[] = [
  'active_check',
  'outlier',
  'breaker',
  'draining',
  'connect_failure',
];

export class HealthFlags {
  #flags = 0;

  static readonly #bits: Readonly<Record<HealthSource, number>> = {
    active_check: 1,
    outlier: 2,
    breaker: 4,
    draining: 8,
    connect_failure: 16,
  };

  /** The endpoint may take new calls: no source holds it out. */
  get available(): boolean {
    return this.#flags === 0;
  }

  /** Holds the endpoint out for this source's reason. */
  set(source: HealthSource): void {
    this.#flags |= HealthFlags.#bits[source];
  }

  /** Lifts this source's hold; others stay. */
  clear(source: HealthSource): void {
    this.#flags &= ~HealthFlags.#bits[source];
  }

  has(source: HealthSource): boolean {
    return (this.#flags & HealthFlags.#bits[source]) !== 0;
  }

  /** The sources holding the endpoint out, for admin views and logs. */
  sources(): HealthSource[] {
    return (Object.keys(HealthFlags.#bits) as HealthSource[]).filter((s) => this.has(s));
  }
}
