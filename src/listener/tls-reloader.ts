/**
 * A TLS listener's certificate, key and client CA, reloaded when their files
 * change: renewing a certificate (cert-manager, certbot, a Kubernetes Secret
 * update) needs no restart. The files' directories are watched like the
 * config file's (src/app/directory-watch.ts). After a quiet period the files
 * are read again; if their bytes
 * changed and they make a valid context (the key matches the certificate,
 * the PEM parses) new connections get it (`setSecureContext`), connections
 * already open keep theirs. A bad or half-written pair is logged and the
 * current one stays.
 */
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import tls from 'node:tls';
import { DirectoryWatch } from '../app/directory-watch.js';
import type { Logger } from '../log/logger.js';

/** Quiet period after the last file event before the files are read again. */
export const TLS_RELOAD_DEBOUNCE_MS = 100;
export const TLS_MIN_VERSION = 'TLSv1.2';

export interface ListenerTlsFiles {
  readonly cert: string;
  readonly key: string;
  readonly client_ca?: string | undefined;
}

/** What `setSecureContext` and `createSecureServer` take from the files. */
export interface TlsMaterial {
  readonly cert: Buffer;
  readonly key: Buffer;
  readonly ca?: Buffer;
  readonly minVersion: typeof TLS_MIN_VERSION;
}

/** Reads the files (throws what readFileSync throws). */
export function readTlsMaterial(files: ListenerTlsFiles): TlsMaterial {
  return {
    cert: readFileSync(files.cert),
    key: readFileSync(files.key),
    ...(files.client_ca === undefined ? {} : { ca: readFileSync(files.client_ca) }),
    minVersion: TLS_MIN_VERSION,
  };
}

function digest(material: TlsMaterial): string {
  const hash = createHash('sha256');
  for (const part of [material.cert, material.key, material.ca ?? Buffer.alloc(0)]) {
    hash.update(String(part.length)).update(':').update(part);
  }
  return hash.digest('hex');
}

export class TlsReloader {
  readonly #files: ListenerTlsFiles;
  readonly #apply: (material: TlsMaterial) => void;
  readonly #logger: Logger;
  readonly #watch: DirectoryWatch;
  #current: string;

  /**
   * Starts watching at once. `initial` is what the server was created with;
   * `apply` installs a new, already validated, material.
   */
  constructor(
    files: ListenerTlsFiles,
    initial: TlsMaterial,
    apply: (material: TlsMaterial) => void,
    logger: Logger,
    debounceMs = TLS_RELOAD_DEBOUNCE_MS,
  ) {
    this.#files = files;
    this.#apply = apply;
    this.#logger = logger;
    this.#current = digest(initial);
    const paths = [
      files.cert,
      files.key,
      ...(files.client_ca === undefined ? [] : [files.client_ca]),
    ];
    this.#watch = new DirectoryWatch(paths, () => this.reload(), {
      logger,
      debounceMs,
      what: 'TLS files',
      fallback: 'certificates no longer reload',
    });
  }

  /**
   * Reads the files again and installs them if they changed and are valid.
   * Returns whether a new context was installed.
   */
  reload(): boolean {
    let material: TlsMaterial;
    try {
      material = readTlsMaterial(this.#files);
    } catch (error) {
      this.#logger.error({ err: error }, 'cannot read TLS files; keeping the current certificate');
      return false;
    }
    const hash = digest(material);
    if (hash === this.#current) return false;
    try {
      // Validates: a key that does not match the certificate, or bad PEM, throws here.
      tls.createSecureContext(material);
      this.#apply(material);
    } catch (error) {
      this.#logger.error(
        { err: error, cert: this.#files.cert, key: this.#files.key },
        'new TLS certificate/key rejected; keeping the current one',
      );
      return false;
    }
    this.#current = hash;
    this.#logger.info({ cert: this.#files.cert }, 'TLS certificate reloaded');
    return true;
  }

  close(): void {
    this.#watch.close();
  }
}
