/**
 * DNS lookups for discovery: every A and AAAA record of a name, through an
 * injectable resolver (tests point one at their own DNS server). A name with
 * no records of either family (NXDOMAIN, or NOERROR with no data) resolves to
 * an empty list; any other failure of either family rejects, so a half-answered
 * lookup is never mistaken for the whole set.
 */
import { promises as dnsPromises } from 'node:dns';

/** The part of `dns.promises.Resolver` discovery uses. */
export interface DnsResolver {
  resolve4(name: string): Promise<string[]>;
  resolve6(name: string): Promise<string[]>;
}

/** The system's resolver configuration (`/etc/resolv.conf`), via c-ares. */
export function defaultResolver(): DnsResolver {
  return new dnsPromises.Resolver();
}

/** Error codes meaning "the name has no records of this family". */
const NO_RECORDS: ReadonlySet<string> = new Set(['ENODATA', 'ENOTFOUND']);

/**
 * `ip:port` (IPv6 in brackets) for every A and AAAA record of `name`, sorted
 * and without duplicates; [] when the name has no records.
 */
export async function resolveEndpoints(
  resolver: DnsResolver,
  name: string,
  port: number,
): Promise<string[]> {
  const [v4, v6] = await Promise.all([
    recordsOrNone(resolver.resolve4(name)),
    recordsOrNone(resolver.resolve6(name)),
  ]);
  const keys = [...v4.map((ip) => `${ip}:${port}`), ...v6.map((ip) => `[${ip}]:${port}`)];
  return [...new Set(keys)].sort();
}

async function recordsOrNone(lookup: Promise<string[]>): Promise<string[]> {
  try {
    return await lookup;
  } catch (error) {
    const code = errorCode(error);
    if (code !== undefined && NO_RECORDS.has(code)) return [];
    throw error;
  }
}

function errorCode(error: unknown): string | undefined {
  if (typeof error !== 'object' || error === null || !('code' in error)) return undefined;
  const code: unknown = error.code;
  return typeof code === 'string' ? code : undefined;
}
