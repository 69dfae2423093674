/**
 * The HPACK static table (RFC 7541 Appendix A) and the lookup maps the
 * encoder needs: name → lowest index, and name → value → index. The maps
 * are nested (not keyed by "name + value") so a lookup allocates nothing.
 */

/** Number of entries in the static table; dynamic indices start after it. */
export const STATIC_TABLE_LENGTH = 61;

/** Index i (1-based) is at [2 * (i - 1)] (name) and [2 * (i - 1) + 1] (value). */
// prettier-ignore
const STATIC_FIELDS: readonly string[] = [
  ':authority', '',
  ':method', 'GET',
  ':method', 'POST',
  ':path', '/',
  ':path', '/index.html',
  ':scheme', 'http',
  ':scheme', 'https',
  ':status', '200',
  ':status', '204',
  ':status', '206',
  ':status', '304',
  ':status', '400',
  ':status', '404',
  ':status', '500',
  'accept-charset', '',
  'accept-encoding', 'gzip, deflate',
  'accept-language', '',
  'accept-ranges', '',
  'accept', '',
  'access-control-allow-origin', '',
  'age', '',
  'allow', '',
  'authorization', '',
  'cache-control', '',
  'content-disposition', '',
  'content-encoding', '',
  'content-language', '',
  'content-length', '',
  'content-location', '',
  'content-range', '',
  'content-type', '',
  'cookie', '',
  'date', '',
  'etag', '',
  'expect', '',
  'expires', '',
  'from', '',
  'host', '',
  'if-match', '',
  'if-modified-since', '',
  'if-none-match', '',
  'if-range', '',
  'if-unmodified-since', '',
  'last-modified', '',
  'link', '',
  'location', '',
  'max-forwards', '',
  'proxy-authenticate', '',
  'proxy-authorization', '',
  'range', '',
  'referer', '',
  'refresh', '',
  'retry-after', '',
  'server', '',
  'set-cookie', '',
  'strict-transport-security', '',
  'transfer-encoding', '',
  'user-agent', '',
  'vary', '',
  'via', '',
  'www-authenticate', '',
];

/** Name of static entry `index` (1..61). */
export function staticName(index: number): string {
  return STATIC_FIELDS[2 * (index - 1)] ?? '';
}

/** Value of static entry `index` (1..61). */
export function staticValue(index: number): string {
  return STATIC_FIELDS[2 * (index - 1) + 1] ?? '';
}

/** name → the lowest static index with that name. */
export const STATIC_NAME_INDEX: ReadonlyMap<string, number> = buildNameIndex();

/** name → value → static index, for exact matches. */
export const STATIC_FIELD_INDEX: ReadonlyMap<
  string,
  ReadonlyMap<string, number>
> = buildFieldIndex();

function buildNameIndex(): Map<string, number> {
  const byName = new Map<string, number>();
  for (let index = 1; index <= STATIC_TABLE_LENGTH; index++) {
    const name = staticName(index);
    if (!byName.has(name)) byName.set(name, index);
  }
  return byName;
}

function buildFieldIndex(): Map<string, Map<string, number>> {
  const byName = new Map<string, Map<string, number>>();
  for (let index = 1; index <= STATIC_TABLE_LENGTH; index++) {
    const name = staticName(index);
    let byValue = byName.get(name);
    if (byValue === undefined) {
      byValue = new Map<string, number>();
      byName.set(name, byValue);
    }
    const value = staticValue(index);
    if (!byValue.has(value)) byValue.set(value, index);
  }
  return byName;
}
