/**
 * How many cases each property tries: 200 in `npm test` (fast), FUZZ_RUNS
 * (default 20000 through `npm run fuzz`) when set. A failure prints the
 * seed and the shrunk counterexample; replay it with FUZZ_SEED=<seed>.
 */
export function fuzzParameters(): { numRuns: number; seed?: number } {
  const runs = Number(process.env['FUZZ_RUNS'] ?? '200');
  const seed = process.env['FUZZ_SEED'];
  return {
    numRuns: Number.isInteger(runs) && runs > 0 ? runs : 200,
    ...(seed === undefined ? {} : { seed: Number(seed) }),
  };
}
