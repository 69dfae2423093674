/**
 * The access log's fields of one call as a JSON fragment
 * (`,"request_id":"…",…,"retries":0`), written by hand instead of by pino's
 * generic per-key serialiser: the same keys, order and encoding as pino
 * gives the object `AccessLog` used to log (undefined values left out,
 * non-finite numbers as null, strings as JSON.stringify has them), at a
 * fraction of the cost and garbage (measured: pino's serialising was about
 * a third of the access log's cost per call).
 */
import type { CallOutcome } from '../outcome/call-outcome.js';
import { jsonNumber, jsonString } from './json-literal.js';
import { LineFragments } from './line-fragments.js';

/** Writes the fields of each call; keeps the parts that repeat (line-fragments.ts). */
export class AccessLineFields {
  readonly #fragments = new LineFragments();

  of(o: CallOutcome): string {
    const fragments = this.#fragments;
    let s = ',"request_id":' + jsonString(o.requestId) + fragments.middle(o);
    if (o.errorMessage !== undefined) s += ',"error_message":' + jsonString(o.errorMessage);
    s += ',"duration_ms":' + msString(o.durationMs) + fragments.tail(o);
    if (o.earlierAttempts.length > 0) {
      // Rare (a call that was retried or hedged): the generic path is fine.
      const earlier = o.earlierAttempts.map((a) => ({
        endpoint: a.endpoint,
        grpc_status: a.grpcStatus,
        error: a.error,
        duration_ms: roundMs(a.durationMs),
        then: a.then,
      }));
      s += ',"earlier_attempts":' + JSON.stringify(earlier);
    }
    return s;
  }
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
