/**
 * Durations in the config are written the way Go and Envoy users expect:
 * one or more `<decimal><unit>` groups such as `250ms`, `5s` or `1m30s`.
 */

/** Microseconds per unit: the smallest unit is an integer, so whole inputs sum exactly. */
const MICROS_PER_UNIT: Readonly<Record<string, number>> = {
  h: 3_600_000_000,
  m: 60_000_000,
  s: 1_000_000,
  ms: 1_000,
  us: 1,
};

// `ms` must be tried before `m`, or `5ms` would read as 5 minutes followed by garbage.
const GROUP = /(\d+)(?:\.(\d+))?(h|ms|us|m|s)/y;

/**
 * Milliseconds in `text` (fractional for sub-millisecond values: `250us` is
 * 0.25), or undefined when `text` is not a duration. Signs, spaces and bare
 * numbers are rejected: a unitless `5` is too easy to misread.
 */
export function parseDuration(text: string): number | undefined {
  if (text.length === 0) return undefined;
  GROUP.lastIndex = 0;
  let micros = 0;
  while (GROUP.lastIndex < text.length) {
    const match = GROUP.exec(text);
    if (match === null) return undefined;
    const [, whole = '', fraction = '', unit = ''] = match;
    const perUnit = MICROS_PER_UNIT[unit];
    if (perUnit === undefined) return undefined;
    micros += Number(whole) * perUnit;
    if (fraction.length > 0) micros += (Number(fraction) * perUnit) / 10 ** fraction.length;
  }
  // Beyond 2^53 µs (~285 years) the sum is no longer exact; nobody means that.
  if (!Number.isFinite(micros) || micros > Number.MAX_SAFE_INTEGER) return undefined;
  // One division at the end keeps whole-microsecond inputs exact (1.1s is 1100, not 1100.0000000000002).
  return micros / 1_000;
}

/**
 * Milliseconds in a duration that validation already accepted; throws if it
 * is not one, which would be a bug (the schema's `duration` format failed).
 */
export function requireDuration(text: string): number {
  const ms = parseDuration(text);
  if (ms === undefined) throw new Error(`not a duration: "${text}"`);
  return ms;
}
