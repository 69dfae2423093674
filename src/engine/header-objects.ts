/**
 * The switchyard engine carries header fields as flat `[name, value, ...]`
 * arrays; the data path speaks node's header objects (`IncomingHttpHeaders`
 * in, `OutgoingHttpHeaders` out). These two conversions are the whole
 * bridge, done once per header block.
 */
import type { IncomingHttpHeaders, OutgoingHttpHeaders } from 'node:http2';
import { ProxyError } from '../errors/proxy-error.js';
import { CARRIED_FIELDS, carriedFields, type MayCarryFields } from '../proxy/carried-fields.js';

/**
 * Fields → object, as node:http2 builds it: a repeated field joins with
 * ", " (`cookie` with "; "), `set-cookie` becomes an array. `fields` must be
 * a block the engine received (and so checked): the object carries them
 * (carried-fields.ts) unless a name repeats, when the object no longer
 * says the same as the fields.
 */
export function headersFromFields(fields: string[]): IncomingHttpHeaders {
  const headers = new (
    HeaderRecord as unknown as new () => Record<string, string | string[] | undefined> &
      MayCarryFields
  )();
  let repeated = false;
  for (let i = 0; i + 1 < fields.length; i += 2) {
    const name = fields[i] as string;
    const value = fields[i + 1] as string;
    const existing = headers[name];
    if (existing === undefined) {
      headers[name] = name === 'set-cookie' ? [value] : value;
      continue;
    }
    repeated = true;
    if (Array.isArray(existing)) {
      existing.push(value);
    } else {
      headers[name] = existing + (name === 'cookie' ? '; ' : ', ') + value;
    }
  }
  if (!repeated) headers[CARRIED_FIELDS] = fields;
  return headers;
}

/**
 * The header objects' constructor. Its prototype is an empty object with a
 * null prototype, so, as with `Object.create(null)`, no name a peer sends
 * (`__proto__`, `constructor`, `toString`) reads or writes anything
 * inherited; unlike `Object.create(null)`, which makes a dictionary-mode
 * object, its objects keep V8's fast properties, shared by every block with
 * the same names in the same order (measured: half the cost per block).
 */
function HeaderRecord(): void {
  // Fields are added by headersFromFields.
}
HeaderRecord.prototype = Object.create(null) as object;

/** Characters RFC 9113 §8.2.1 forbids in a field value. */
const FORBIDDEN_IN_VALUE = /[\0\r\n]/;

/**
 * Object → fields, pseudo-headers first (RFC 9113 §8.3). Arrays give one
 * field per element. Throws `bad_request` for a value no peer may receive
 * (NUL, CR, LF), as node:http2 refuses such a header. One pass into one
 * array: the objects the proxy builds list pseudo-headers first already, so
 * they are only reordered when one follows a regular field. An object that
 * carries its fields (checked already) gives those.
 */
export function fieldsFromHeaders(headers: OutgoingHttpHeaders | IncomingHttpHeaders): string[] {
  const carried = carriedFields(headers);
  if (carried !== undefined) return carried;
  const fields: string[] = [];
  let sawRegular = false;
  let misordered = false;
  for (const key in headers) {
    const value = headers[key];
    if (value === undefined) continue;
    const name = key.toLowerCase();
    if (name.charCodeAt(0) === 58 /* : */) {
      if (sawRegular) misordered = true;
    } else {
      sawRegular = true;
    }
    if (Array.isArray(value)) {
      for (const item of value) pushField(fields, name, item);
    } else {
      pushField(fields, name, String(value));
    }
  }
  return misordered ? pseudoFirst(fields) : fields;
}

function pushField(into: string[], name: string, value: string): void {
  if (FORBIDDEN_IN_VALUE.test(value)) {
    throw new ProxyError('bad_request', `header ${name} has a value no HTTP/2 peer may receive`);
  }
  into.push(name, value);
}

/** The same fields, pseudo-headers first, each group in its order. */
function pseudoFirst(fields: readonly string[]): string[] {
  const pseudo: string[] = [];
  const regular: string[] = [];
  for (let i = 0; i + 1 < fields.length; i += 2) {
    const name = fields[i] as string;
    const into = name.charCodeAt(0) === 58 /* : */ ? pseudo : regular;
    into.push(name, fields[i + 1] as string);
  }
  return pseudo.concat(regular);
}
