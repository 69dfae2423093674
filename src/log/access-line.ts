/**
 * The access log's fields of one call as a JSON fragment
 * (`,"request_id":"…",…,"retries":0`) in parts, written by hand instead of by pino's
 * generic per-key serialiser: the same keys, order and encoding as pino
 * gives the object `AccessLog` used to log (undefined values left out,
 * non-finite numbers as null, strings as JSON.stringify has them), at a
 * fraction of the cost and garbage (measured: pino's serialising was about
 * a third of the access log's cost per call).
 */
import type { CallOutcome } from '../outcome/call-outcome.js';
import { isPlainJsonString, jsonNumber } from './json-literal.js';
import { LineFragments } from './line-fragments.js';
import { EncodedPart, type LinePart } from './line-part.js';

/** The most parts `AccessLineFields.parts` writes for one call. */
export const MAX_ACCESS_LINE_PARTS = 11;

/**
 * Writes the fields of each call; keeps the parts that repeat
 * (line-fragments.ts). The fields come as parts, not joined: a destination
 * that takes a line in parts (line-batch.ts) encodes them one after another
 * and no string of the whole line is ever made; any other destination gets
 * them joined (pino-line.ts).
 */
export class AccessLineFields {
  readonly #fragments = new LineFragments();

  /**
   * Puts the fields of `o` into `parts` from index 0, in order, and returns
   * how many (at most MAX_ACCESS_LINE_PARTS). The parts are constants and
   * cached fragments (encoded once) and the call's own strings: a value that
   * needs no escaping goes between quote parts as it is, not copied into a
   * literal.
   */
  parts(o: CallOutcome, parts: LinePart[]): number {
    const fragments = this.#fragments;
    let n = stringField(parts, 0, REQUEST_ID, o.requestId);
    parts[n++] = fragments.middle(o);
    if (o.errorMessage !== undefined) n = stringField(parts, n, ERROR_MESSAGE, o.errorMessage);
    parts[n++] = DURATION_MS;
    parts[n++] = msString(o.durationMs);
    parts[n++] = fragments.tail(o);
    if (o.earlierAttempts.length > 0) {
      // Rare (a call that was retried or hedged): the generic path is fine.
      const earlier = o.earlierAttempts.map((a) => ({
        endpoint: a.endpoint,
        grpc_status: a.grpcStatus,
        error: a.error,
        duration_ms: roundMs(a.durationMs),
        then: a.then,
      }));
      parts[n++] = ',"earlier_attempts":' + JSON.stringify(earlier);
    }
    return n;
  }
}

/** A string field's key, `,"key":`, and the same with the value's opening quote. */
class StringKey {
  readonly bare: EncodedPart;
  readonly quoted: EncodedPart;

  constructor(key: string) {
    this.bare = new EncodedPart(',' + JSON.stringify(key) + ':');
    this.quoted = new EncodedPart(',' + JSON.stringify(key) + ':"');
  }
}

const REQUEST_ID = new StringKey('request_id');
const ERROR_MESSAGE = new StringKey('error_message');
const DURATION_MS = new EncodedPart(',"duration_ms":');
const QUOTE = new EncodedPart('"');

/** `,"key":"value"` as parts from `parts[n]`: three, or two with an escaped literal. */
function stringField(parts: LinePart[], n: number, key: StringKey, value: string): number {
  if (isPlainJsonString(value)) {
    parts[n] = key.quoted;
    parts[n + 1] = value;
    parts[n + 2] = QUOTE;
    return n + 3;
  }
  parts[n] = key.bare;
  parts[n + 1] = JSON.stringify(value);
  return n + 2;
}

/** Milliseconds to the microsecond, as the access log has always shown them. */
function roundMs(ms: number): number {
  return Math.round(ms * 1000) / 1000;
}

/**
 * `num(roundMs(ms))`, from integers: turning the rounded double into its
 * shortest decimal was the costliest part of the line (measured: ~10% of
 * it). For a whole number of microseconds below 10^12 that decimal is the
 * whole milliseconds, a point and the microseconds without trailing zeros;
 * anything else (NaN, negative, huge) takes the double's own path.
 */
export function msString(ms: number): string {
  const us = Math.round(ms * 1000);
  if (!(us >= 0 && us < 1e12)) return jsonNumber(us / 1000);
  const whole = Math.floor(us / 1000);
  let fraction = us - whole * 1000;
  if (fraction === 0) return String(whole);
  let width = 3;
  while (fraction % 10 === 0) {
    fraction /= 10;
    width--;
  }
  return String(whole) + '.' + String(fraction).padStart(width, '0');
}
