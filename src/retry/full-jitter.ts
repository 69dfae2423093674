/**
 * Exponential back-off with full jitter (the AWS architecture blog's
 * "full jitter", as gRFC A6 uses): retry n waits a uniformly random time in
 * [0, min(base × 2^(n-1), max)). Spreading retries over the whole window
 * keeps clients that failed together from retrying together.
 */
export function fullJitterBackoffMs(
  n: number,
  baseMs: number,
  maxMs: number,
  random: () => number,
): number {
  const exponent = Math.max(0, n - 1);
  // 2^exponent overflows nothing here: max_attempts is at most 5.
  const ceiling = Math.min(baseMs * 2 ** exponent, maxMs);
  return random() * ceiling;
}
