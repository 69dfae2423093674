/**
 * DNS discovery with workers (docs/workers.md): only the primary asks DNS.
 * `RecordingResolver` wraps the primary's resolver and reports every answer
 * that differs from the last one for its name and family; the workers'
 * `TableResolver` answers their clusters' lookups from those reports, so
 * every worker sees the member list the primary sees.
 */
import { defaultResolver, type DnsResolver } from '../discovery/dns-resolver.js';
import type { DnsEntry } from './ipc-messages.js';

/** Error codes meaning "the name has no records of this family" (as in dns-resolver.ts). */
const NO_RECORDS: ReadonlySet<string> = new Set(['ENODATA', 'ENOTFOUND']);

function key(name: string, family: 4 | 6): string {
  return `${String(family)} ${name}`;
}

function noRecords(error: unknown): boolean {
  if (typeof error !== 'object' || error === null || !('code' in error)) return false;
  return typeof error.code === 'string' && NO_RECORDS.has(error.code);
}

function sameList(a: readonly string[], b: readonly string[]): boolean {
  return a.length === b.length && a.every((item, i) => item === b[i]);
}

/** The primary's resolver: answers as `inner` does, and reports changed answers. */
export class RecordingResolver implements DnsResolver {
  readonly #inner: DnsResolver;
  readonly #table = new Map<string, DnsEntry>();
  readonly #onChange: (entry: DnsEntry) => void;

  constructor(onChange: (entry: DnsEntry) => void, inner: DnsResolver = defaultResolver()) {
    this.#inner = inner;
    this.#onChange = onChange;
  }

  /** Every name's last answer. */
  get entries(): DnsEntry[] {
    return [...this.#table.values()];
  }

  resolve4(name: string): Promise<string[]> {
    return this.#record(name, 4, this.#inner.resolve4(name));
  }

  resolve6(name: string): Promise<string[]> {
    return this.#record(name, 6, this.#inner.resolve6(name));
  }

  async #record(name: string, family: 4 | 6, lookup: Promise<string[]>): Promise<string[]> {
    let addresses: string[];
    try {
      addresses = await lookup;
    } catch (error) {
      // A failed lookup keeps the last answer (discovery keeps its members too).
      if (noRecords(error)) this.#update({ name, family, addresses: [] });
      throw error;
    }
    this.#update({ name, family, addresses: [...addresses] });
    return addresses;
  }

  #update(entry: DnsEntry): void {
    const previous = this.#table.get(key(entry.name, entry.family));
    if (previous !== undefined && sameList(previous.addresses, entry.addresses)) return;
    this.#table.set(key(entry.name, entry.family), entry);
    this.#onChange(entry);
  }
}

/** A worker's resolver: answers from the primary's reports, never asks DNS. */
export class TableResolver implements DnsResolver {
  readonly #table = new Map<string, readonly string[]>();

  /** Records one of the primary's answers. */
  set(entry: DnsEntry): void {
    this.#table.set(key(entry.name, entry.family), entry.addresses);
  }

  resolve4(name: string): Promise<string[]> {
    return this.#answer(name, 4);
  }

  resolve6(name: string): Promise<string[]> {
    return this.#answer(name, 6);
  }

  #answer(name: string, family: 4 | 6): Promise<string[]> {
    const addresses = this.#table.get(key(name, family));
    if (addresses !== undefined) return Promise.resolve([...addresses]);
    // Not a "no records" code: discovery keeps what it has and asks again on its interval.
    const error = Object.assign(new Error(`the primary has not resolved ${name} yet`), {
      code: 'ENOTRESOLVED',
    });
    return Promise.reject(error);
  }
}
