/**
 * `grpc-retry-pushback-ms` (gRFC A6): a backend's say on whether and when a
 * failed call may be retried. A non-negative integer is the delay to use
 * instead of the back-off; a negative or malformed value means "do not
 * retry"; no header leaves the decision to the retry policy.
 */
export type Pushback =
  | { readonly kind: 'none' }
  | { readonly kind: 'stop' }
  | { readonly kind: 'delay'; readonly ms: number };

const NONE: Pushback = { kind: 'none' };
const STOP: Pushback = { kind: 'stop' };

/** Longest pushback honoured; a larger value waits this long (the deadline still applies). */
export const MAX_PUSHBACK_MS = 2_147_483_647;

export function parsePushback(value: string | string[] | undefined): Pushback {
  if (value === undefined) return NONE;
  if (typeof value !== 'string' || !/^[0-9]{1,10}$/.test(value)) return STOP;
  return { kind: 'delay', ms: Math.min(Number(value), MAX_PUSHBACK_MS) };
}
