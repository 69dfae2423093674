/** JSON literals of single values, exactly as JSON.stringify writes them. */

/**
 * A string literal. Most values need no escaping at all; anything with a
 * quote, backslash, control character or surrogate goes to JSON.stringify.
 */
export function jsonString(value: string): string {
  return isPlainJsonString(value) ? '"' + value + '"' : JSON.stringify(value);
}

/**
 * Whether the string's JSON literal is the string itself between quotes
 * (no quote, backslash, control character or surrogate in it), so that it
 * can be written between quotes as it is.
 */
export function isPlainJsonString(value: string): boolean {
  for (let i = 0; i < value.length; i++) {
    const c = value.charCodeAt(i);
    if (c < 32 || c === 34 || c === 92 || (c >= 0xd800 && c <= 0xdfff)) return false;
  }
  return true;
}

/** A number: non-finite ones as null. */
export function jsonNumber(n: number): string {
  return Number.isFinite(n) ? String(n) : 'null';
}
