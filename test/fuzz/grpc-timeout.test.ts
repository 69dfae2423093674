/**
 * Fuzzing the grpc-timeout header: any string parses to a finite number of
 * milliseconds in [0, MAX_TIMER_MS] or to undefined; valid values always
 * parse; formatGrpcTimeout round-trips, never later than the original.
 */
import fc from 'fast-check';
import t from 'tap';
import { formatGrpcTimeout, MAX_TIMER_MS, parseGrpcTimeout } from '../../src/grpc/grpc-timeout.js';
import { fuzzParameters } from './runs.js';

const UNITS = ['H', 'M', 'S', 'm', 'u', 'n'] as const;
/** Floating-point slack, relative. */
const EPSILON = 1e-9;

const valid = fc
  .tuple(fc.stringMatching(/^[0-9]{1,8}$/), fc.constantFrom(...UNITS))
  .map(([digits, unit]) => `${digits}${unit}`);

function inRange(ms: number | undefined): boolean {
  return ms === undefined || (Number.isFinite(ms) && ms >= 0 && ms <= MAX_TIMER_MS);
}

void t.test('any string: undefined or milliseconds within a timer', (t) => {
  fc.assert(
    fc.property(
      fc.oneof(fc.string({ maxLength: 20 }), valid, fc.string({ unit: 'binary' })),
      (text) => inRange(parseGrpcTimeout(text)),
    ),
    fuzzParameters(),
  );
  t.end();
});

void t.test('valid values parse; longer or unitless ones do not', (t) => {
  fc.assert(
    fc.property(valid, fc.string({ maxLength: 3 }), (value, junk) => {
      const ms = parseGrpcTimeout(value);
      if (ms === undefined || !inRange(ms)) return false;
      const spoiled = parseGrpcTimeout(`${value}${junk}`);
      return junk === '' || spoiled === undefined;
    }),
    fuzzParameters(),
  );
  t.end();
});

/** `back` (parsed from `text`) is not later than `ms` and less than one unit of `text` earlier. */
function closeBelow(ms: number, text: string): boolean {
  const back = parseGrpcTimeout(text);
  if (back === undefined) return false;
  const step = text.endsWith('u') ? 0.001 : text.endsWith('m') ? 1 : 1000;
  return back <= ms + EPSILON * Math.max(1, ms) && ms - back < step + EPSILON * ms;
}

void t.test('format then parse: never later, and less than one unit earlier', (t) => {
  fc.assert(
    fc.property(
      fc.oneof(
        fc.double({ min: 0, max: MAX_TIMER_MS, noNaN: true }),
        fc.integer({ min: 0, max: MAX_TIMER_MS }),
      ),
      (ms) => closeBelow(ms, formatGrpcTimeout(ms)),
    ),
    fuzzParameters(),
  );
  t.end();
});

void t.test('parse, format, parse: the same deadline, rounded down by less than a unit', (t) => {
  fc.assert(
    fc.property(valid, (value) => {
      const ms = parseGrpcTimeout(value);
      return ms !== undefined && closeBelow(ms, formatGrpcTimeout(ms));
    }),
    fuzzParameters(),
  );
  t.end();
});

/** The grammar as a regular expression: the hand-written parser must agree with it. */
function reference(text: string): number | undefined {
  const match = /^([0-9]{1,8})([HMSmun])$/.exec(text);
  if (match === null) return undefined;
  const perUnit = { H: 3_600_000, M: 60_000, S: 1_000, m: 1, u: 0.001, n: 0.000_001 }[
    match[2] as (typeof UNITS)[number]
  ];
  return Math.min(Number(match[1]) * perUnit, MAX_TIMER_MS);
}

void t.test('the parser agrees with the grammar on any string', (t) => {
  fc.assert(
    fc.property(
      fc.oneof(
        fc.string({ maxLength: 12 }),
        valid,
        fc.tuple(valid, fc.string({ maxLength: 2 })).map(([v, j]) => `${j}${v}`),
        fc.stringMatching(/^[0-9:/ ]{0,10}[HMSmunx]?$/),
      ),
      (text) => Object.is(parseGrpcTimeout(text), reference(text)),
    ),
    fuzzParameters(),
  );
  t.end();
});
