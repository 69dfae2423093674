/**
 * How a cluster's member set changes when discovery reports a new one. An
 * endpoint is identified by its key (`ip:port`): keys in both sets keep their
 * Endpoint (connections, health, calls in flight), new keys join, and keys
 * that vanished drain.
 */

export interface MembershipDiff {
  /** In both, in the current order. */
  readonly keep: readonly string[];
  /** Only in the next set, in its order. */
  readonly join: readonly string[];
  /** Only in the current set, in its order. */
  readonly drain: readonly string[];
}

export function diffMembership(current: Iterable<string>, next: Iterable<string>): MembershipDiff {
  const currentSet = new Set(current);
  const nextSet = new Set(next);
  return {
    keep: [...currentSet].filter((key) => nextSet.has(key)),
    join: [...nextSet].filter((key) => !currentSet.has(key)),
    drain: [...currentSet].filter((key) => !nextSet.has(key)),
  };
}

/** What one lookup gave. */
export type Resolution =
  | { readonly kind: 'records'; readonly addresses: readonly string[] }
  | { readonly kind: 'empty' }
  | { readonly kind: 'failed'; readonly error: unknown };

/**
 * The set to use after `resolution`: its records, or the last good set when
 * the lookup failed or found nothing (like Envoy, a DNS outage or a
 * mis-published zone does not empty the cluster).
 */
export function nextAddresses(last: readonly string[], resolution: Resolution): readonly string[] {
  return resolution.kind === 'records' ? resolution.addresses : last;
}
