/**
 * The `grpc-timeout` header (PROTOCOL-HTTP2.md): TimeoutValue TimeoutUnit,
 * where TimeoutValue is 1 to 8 ASCII digits and TimeoutUnit one of
 * H (hours), M (minutes), S (seconds), m (milliseconds), u (microseconds),
 * n (nanoseconds).
 */

const UNIT_MS: Readonly<Record<string, number>> = {
  H: 3_600_000,
  M: 60_000,
  S: 1_000,
  m: 1,
  u: 0.001,
  n: 0.000_001,
};

/** The largest delay a Node timer holds (about 24.8 days). */
export const MAX_TIMER_MS = 2 ** 31 - 1;

/**
 * Milliseconds in a `grpc-timeout` value, clamped to what a timer can hold;
 * undefined when malformed. Zero means the deadline has already passed.
 * Read by hand (every call carries one): a regular expression's match
 * array and substrings were most of its cost.
 */
export function parseGrpcTimeout(value: string): number | undefined {
  const digits = value.length - 1;
  if (digits < 1 || digits > 8) return undefined;
  const perUnit = UNIT_MS[value.charAt(digits)];
  if (perUnit === undefined) return undefined;
  let amount = 0;
  for (let i = 0; i < digits; i++) {
    const digit = value.charCodeAt(i) - 48; /* 0 */
    if (digit < 0 || digit > 9) return undefined;
    amount = amount * 10 + digit;
  }
  return Math.min(amount * perUnit, MAX_TIMER_MS);
}

/**
 * A remaining time as `grpc-timeout`, rounded down so that the backend's
 * deadline is never later than ours: microseconds while they fit in 8
 * digits, then milliseconds, then seconds.
 */
export function formatGrpcTimeout(remainingMs: number): string {
  const micros = Math.max(0, Math.floor(remainingMs * 1000));
  if (micros <= 99_999_999) return `${micros}u`;
  const millis = Math.floor(remainingMs);
  if (millis <= 99_999_999) return `${millis}m`;
  return `${Math.min(Math.floor(remainingMs / 1000), 99_999_999)}S`;
}
