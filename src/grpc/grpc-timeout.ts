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

const GRPC_TIMEOUT = /^([0-9]{1,8})([HMSmun])$/;

/**
 * Milliseconds in a `grpc-timeout` value, clamped to what a timer can hold;
 * undefined when malformed. Zero means the deadline has already passed.
 */
export function parseGrpcTimeout(value: string): number | undefined {
  const match = GRPC_TIMEOUT.exec(value);
  if (match === null) return undefined;
  const [, digits = '', unit = ''] = match;
  const perUnit = UNIT_MS[unit];
  if (perUnit === undefined) return undefined;
  return Math.min(Number(digits) * perUnit, MAX_TIMER_MS);
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
