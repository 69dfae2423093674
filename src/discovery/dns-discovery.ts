/**
 * One `{dns: name:port, refresh}` endpoint entry: resolves the name at once,
 * then again every `refresh` (the next lookup is scheduled when the previous
 * one ends, so slow lookups never pile up; the timer is unref'd). Each good
 * answer that differs from the last is reported to `onChange`; a failed or
 * empty lookup keeps the last good set and logs a warning.
 */
import type { Logger } from '../log/logger.js';
import { resolveEndpoints, type DnsResolver } from './dns-resolver.js';
import { nextAddresses, type Resolution } from './membership.js';

export interface DnsDiscoveryOptions {
  readonly host: string;
  readonly port: number;
  readonly refreshMs: number;
  readonly resolver: DnsResolver;
  readonly logger: Logger;
  /** A new address set (sorted `ip:port` keys) was found. */
  readonly onChange: (addresses: readonly string[]) => void;
}

export class DnsDiscovery {
  readonly #options: DnsDiscoveryOptions;
  #addresses: readonly string[] = [];
  #resolvedOnce = false;
  #timer: NodeJS.Timeout | undefined;
  #stopped = false;
  #started: Promise<void> | undefined;

  constructor(options: DnsDiscoveryOptions) {
    this.#options = options;
  }

  /** `name:port` as configured. */
  get target(): string {
    return `${this.#options.host}:${this.#options.port}`;
  }

  /** The last good address set ([] until a lookup found records). */
  get addresses(): readonly string[] {
    return this.#addresses;
  }

  /**
   * Starts the refresh loop; resolves when the first lookup ended (whatever
   * its outcome). Idempotent.
   */
  start(): Promise<void> {
    this.#started ??= this.refresh().then(() => this.#schedule());
    return this.#started;
  }

  /** Stops the loop; a lookup in progress is ignored when it ends. */
  stop(): void {
    this.#stopped = true;
    clearTimeout(this.#timer);
    this.#timer = undefined;
  }

  /** One lookup, applied. Never rejects. */
  async refresh(): Promise<Resolution> {
    const { host, port, resolver, logger } = this.#options;
    let resolution: Resolution;
    try {
      const addresses = await resolveEndpoints(resolver, host, port);
      resolution = addresses.length > 0 ? { kind: 'records', addresses } : { kind: 'empty' };
    } catch (error) {
      resolution = { kind: 'failed', error };
    }
    if (this.#stopped) return resolution;
    if (resolution.kind === 'failed') {
      logger.warn(
        { err: resolution.error, dns: this.target, kept: this.#addresses },
        'DNS lookup failed; keeping the last good endpoints',
      );
    } else if (resolution.kind === 'empty') {
      logger.warn(
        { dns: this.target, kept: this.#addresses },
        'DNS name has no A or AAAA records; keeping the last good endpoints',
      );
    }
    const next = nextAddresses(this.#addresses, resolution);
    const changed = !sameList(next, this.#addresses) || !this.#resolvedOnce;
    this.#addresses = next;
    if (resolution.kind === 'records') this.#resolvedOnce = true;
    if (changed && resolution.kind === 'records') this.#options.onChange(next);
    return resolution;
  }

  #schedule(): void {
    if (this.#stopped) return;
    this.#timer = setTimeout(() => {
      this.#timer = undefined;
      void this.refresh().then(() => this.#schedule());
    }, this.#options.refreshMs);
    this.#timer.unref();
  }
}

function sameList(a: readonly string[], b: readonly string[]): boolean {
  return a.length === b.length && a.every((value, index) => value === b[index]);
}
