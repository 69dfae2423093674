/**
 * Byte sizes in the config: a plain count (`512`, `512B`) or a count with a
 * decimal (`KB`, `MB`, `GB`; `kB` is accepted as the SI spelling) or binary
 * (`KiB`, `MiB`, `GiB`) unit. Only whole counts: `1.5MiB` is rejected rather
 * than rounded, so the number on the wire is the number written.
 */

const BYTES_PER_UNIT: Readonly<Record<string, number>> = {
  '': 1,
  B: 1,
  KB: 1_000,
  kB: 1_000,
  MB: 1_000_000,
  GB: 1_000_000_000,
  KiB: 1024,
  MiB: 1024 ** 2,
  GiB: 1024 ** 3,
};

const BYTE_SIZE = /^(\d+)(B|KB|kB|MB|GB|KiB|MiB|GiB)?$/;

/** The number of bytes in `text`, or undefined when it is not a byte size. */
export function parseByteSize(text: string): number | undefined {
  const match = BYTE_SIZE.exec(text);
  if (match === null) return undefined;
  const [, count = '', unit = ''] = match;
  const perUnit = BYTES_PER_UNIT[unit];
  if (perUnit === undefined) return undefined;
  const bytes = Number(count) * perUnit;
  return Number.isSafeInteger(bytes) ? bytes : undefined;
}

/**
 * Bytes in a size that validation already accepted; throws if it is not
 * one, which would be a bug (the schema's `byte-size` format failed).
 */
export function requireByteSize(text: string): number {
  const bytes = parseByteSize(text);
  if (bytes === undefined) throw new Error(`not a byte size: "${text}"`);
  return bytes;
}
