/**
 * One header's value from a node header object: a repeated header that
 * node keeps as an array (only `set-cookie`) reads as its values joined
 * with ",". The one reading for routing, hashing and `RequestHead.header`.
 */
import type { IncomingHttpHeaders } from 'node:http2';

export function headerValue(headers: IncomingHttpHeaders, name: string): string | undefined {
  const value = headers[name];
  return Array.isArray(value) ? value.join(',') : value;
}
