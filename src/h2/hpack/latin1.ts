/**
 * Octets to a latin1 string, the one allocation the decoder makes per
 * string. Short strings are built in JavaScript (cheaper than a call into
 * C++); longer ones use Buffer's native latin1Slice directly, skipping the
 * argument handling of Buffer#toString (about a third of decode time for a
 * gRPC request head). Falls back to toString if latin1Slice ever goes away.
 */

/** Below this length a JavaScript loop beats the native call. */
const SHORT_STRING = 8;

type Latin1Slice = (this: Buffer, start: number, end: number) => string;

const nativeLatin1Slice = (Buffer.prototype as unknown as { latin1Slice?: Latin1Slice })
  .latin1Slice;

/** bytes[start, end) as a latin1 string (one char per octet). */
export function latin1String(bytes: Buffer, start: number, end: number): string {
  if (end - start < SHORT_STRING) {
    let text = '';
    for (let i = start; i < end; i++) text += String.fromCharCode(bytes[i] ?? 0);
    return text;
  }
  return nativeLatin1Slice === undefined
    ? bytes.toString('latin1', start, end)
    : nativeLatin1Slice.call(bytes, start, end);
}
