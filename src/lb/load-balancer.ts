/**
 * The seam between a cluster and its balancing policy. A policy sees the
 * cluster's members, asks each whether it is `available` (health flags fed by
 * active checks, outlier detection, breakers and draining), and picks one per
 * call. Policies never do I/O and never look at anything else, so they can be
 * tested with plain objects and an injected random source.
 */
export interface Pickable {
  readonly available: boolean;
}

export interface Member<E extends Pickable> {
  readonly endpoint: E;
  /** Relative share of calls, >= 1. */
  readonly weight: number;
}

export interface LoadBalancer<E extends Pickable> {
  /** One endpoint for one call, or undefined when none is available. */
  pick(): E | undefined;
}

export type LbPolicyName = 'round_robin';
