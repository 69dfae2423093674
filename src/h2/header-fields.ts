/**
 * Header fields as one flat array, `[name0, value0, name1, value1, ...]`
 * (one allocation per block instead of one object per field), and the
 * RFC 9113 §8.2/§8.3 checks of received header blocks.
 *
 * Each check scans the block once and throws H2StreamError(PROTOCOL_ERROR)
 * for a malformed block (§8.1.1); request and response checks return the
 * content-length the block declares (-1 when it has none) so DATA can be
 * counted against it.
 */
import { PROTOCOL_ERROR } from './constants.js';
import { H2StreamError } from './h2-error.js';

export type HeaderFields = string[];

/** The value of the first field called `name` (lowercase), or undefined. */
export function getField(fields: readonly string[], name: string): string | undefined {
  for (let i = 0; i < fields.length; i += 2) if (fields[i] === name) return fields[i + 1];
  return undefined;
}

/** Every value of the fields called `name`. */
export function getFields(fields: readonly string[], name: string): string[] {
  const values: string[] = [];
  for (let i = 0; i < fields.length; i += 2) {
    if (fields[i] === name) values.push(fields[i + 1] ?? '');
  }
  return values;
}

/** Builds a flat array from a record (convenience for tests and local replies). */
export function fromRecord(record: Readonly<Record<string, string | readonly string[]>>): string[] {
  const fields: string[] = [];
  for (const [name, value] of Object.entries(record)) {
    if (typeof value === 'string') fields.push(name, value);
    else for (const v of value) fields.push(name, v);
  }
  return fields;
}

/** Regular field names: lowercase tchar (§8.2.1, §5.6.2 of RFC 9110); 1 = allowed. */
const NAME_CHARS = new Uint8Array(128);
for (const c of "abcdefghijklmnopqrstuvwxyz0123456789!#$%&'*+-.^_`|~")
  NAME_CHARS[c.charCodeAt(0)] = 1;

/** A char loop, not a regex: field names are short and checked on every request. */
function validName(name: string): boolean {
  const n = name.length;
  if (n === 0) return false;
  for (let i = 0; i < n; i++) {
    const c = name.charCodeAt(i);
    if (c > 127 || NAME_CHARS[c] === 0) return false;
  }
  return true;
}

/** §8.2.1: no NUL, CR or LF; no leading or trailing space or tab. */
function validValue(value: string): boolean {
  const n = value.length;
  if (n === 0) return true;
  let c = value.charCodeAt(0);
  if (c === 32 || c === 9) return false;
  c = value.charCodeAt(n - 1);
  if (c === 32 || c === 9) return false;
  for (let i = 0; i < n; i++) {
    c = value.charCodeAt(i);
    if (c < 14 && (c === 0 || c === 10 || c === 13)) return false;
  }
  return true;
}

/** Three digits, the first not 0 (a char check: one per response). */
function validStatus(value: string): boolean {
  if (value.length !== 3) return false;
  const a = value.charCodeAt(0);
  const b = value.charCodeAt(1);
  const c = value.charCodeAt(2);
  return a >= 49 && a <= 57 && b >= 48 && b <= 57 && c >= 48 && c <= 57;
}

function fail(streamId: number, message: string): never {
  throw new H2StreamError(PROTOCOL_ERROR, streamId, message);
}

/**
 * The regular field that last passed `checkRegular` at each position of a
 * block (position = field index, up to PASSED_POSITIONS). Heads of one kind
 * repeat field for field, often as the very same strings (the HPACK
 * decoder's table entries): a field equal to the one that passed at its
 * position passes again without its characters being scanned. Whether a
 * field passes depends on its name and value alone, so one cache serves
 * every connection.
 */
const PASSED_POSITIONS = 32;
const passedName = new Array<string>(PASSED_POSITIONS).fill('');
const passedValue = new Array<string>(PASSED_POSITIONS).fill('');

/**
 * Checks one regular field (§8.2): a valid lowercase name, a valid value, not
 * connection-specific (§8.2.2). Returns true when it is content-length.
 * `position` is the field's index in its block.
 */
function checkRegular(name: string, value: string, streamId: number, position: number): boolean {
  if (position < PASSED_POSITIONS) {
    if (passedName[position] === name && passedValue[position] === value) {
      return name === 'content-length';
    }
    const isContentLength = checkRegularFully(name, value, streamId);
    passedName[position] = name;
    passedValue[position] = value;
    return isContentLength;
  }
  return checkRegularFully(name, value, streamId);
}

function checkRegularFully(name: string, value: string, streamId: number): boolean {
  if (!validName(name)) fail(streamId, `invalid field name "${name}"`);
  if (!validValue(value)) fail(streamId, `invalid value for "${name}"`);
  switch (name) {
    case 'connection':
    case 'keep-alive':
    case 'proxy-connection':
    case 'transfer-encoding':
    case 'upgrade':
      fail(streamId, `connection-specific field "${name}"`);
      break;
    case 'te':
      if (value !== 'trailers') fail(streamId, `te: "${value}" (only "trailers" is allowed)`);
      break;
    case 'content-length':
      return true;
  }
  return false;
}

/** 1 to 15 digits, read by hand (every request of some clients carries one). */
function parseContentLength(value: string, previous: number, streamId: number): number {
  const length = value.length;
  if (length === 0 || length > 15) fail(streamId, `invalid content-length "${value}"`);
  let n = 0;
  for (let i = 0; i < length; i++) {
    const digit = value.charCodeAt(i) - 48; /* 0 */
    if (digit < 0 || digit > 9) fail(streamId, `invalid content-length "${value}"`);
    n = n * 10 + digit;
  }
  if (previous >= 0 && previous !== n) fail(streamId, 'conflicting content-length values');
  return n;
}

/** §8.3.1: a request head. Returns its content-length, or -1. */
export function checkRequestHead(fields: readonly string[], streamId: number): number {
  let method: string | undefined;
  let scheme = false;
  let path = false;
  let authority = false;
  let regular = false;
  let contentLength = -1;
  for (let i = 0; i < fields.length; i += 2) {
    const name = fields[i] ?? '';
    const value = fields[i + 1] ?? '';
    if (name.charCodeAt(0) === 58 /* : */) {
      if (regular) fail(streamId, `pseudo-header ${name} after regular fields`);
      switch (name) {
        case ':method':
          if (method !== undefined) fail(streamId, 'duplicate :method');
          if (value.length === 0) fail(streamId, 'empty :method');
          method = value;
          break;
        case ':scheme':
          if (scheme) fail(streamId, 'duplicate :scheme');
          scheme = true;
          break;
        case ':path':
          if (path) fail(streamId, 'duplicate :path');
          if (value.length === 0) fail(streamId, 'empty :path');
          path = true;
          break;
        case ':authority':
          if (authority) fail(streamId, 'duplicate :authority');
          authority = true;
          break;
        default:
          fail(streamId, `pseudo-header ${name} not allowed in a request`);
      }
      continue;
    }
    regular = true;
    if (checkRegular(name, value, streamId, i >> 1)) {
      contentLength = parseContentLength(value, contentLength, streamId);
    }
  }
  if (method === undefined) fail(streamId, 'missing :method');
  if (method === 'CONNECT') {
    if (scheme || path) fail(streamId, 'CONNECT with :scheme or :path');
    if (!authority) fail(streamId, 'CONNECT without :authority');
  } else {
    if (!scheme) fail(streamId, 'missing :scheme');
    if (!path) fail(streamId, 'missing :path');
  }
  return contentLength;
}

/**
 * §8.3.2: a response head. Returns its content-length, or -1 (also for
 * responses that carry no content: 204, 304, and answers to HEAD are the
 * caller's to skip).
 */
export function checkResponseHead(fields: readonly string[], streamId: number): number {
  let status = false;
  let regular = false;
  let contentLength = -1;
  for (let i = 0; i < fields.length; i += 2) {
    const name = fields[i] ?? '';
    const value = fields[i + 1] ?? '';
    if (name.charCodeAt(0) === 58 /* : */) {
      if (regular) fail(streamId, `pseudo-header ${name} after regular fields`);
      if (name !== ':status') fail(streamId, `pseudo-header ${name} not allowed in a response`);
      if (status) fail(streamId, 'duplicate :status');
      if (!validStatus(value)) fail(streamId, `invalid :status "${value}"`);
      status = true;
      continue;
    }
    regular = true;
    if (checkRegular(name, value, streamId, i >> 1)) {
      contentLength = parseContentLength(value, contentLength, streamId);
    }
  }
  if (!status) fail(streamId, 'missing :status');
  return contentLength;
}

/** §8.1: trailers carry no pseudo-headers. */
export function checkTrailers(fields: readonly string[], streamId: number): void {
  for (let i = 0; i < fields.length; i += 2) {
    const name = fields[i] ?? '';
    if (name.charCodeAt(0) === 58) fail(streamId, `pseudo-header ${name} in trailers`);
    checkRegular(name, fields[i + 1] ?? '', streamId, i >> 1);
  }
}
