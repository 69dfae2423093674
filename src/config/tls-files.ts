/**
 * TLS certificate and key paths are written relative to the config file, so
 * a config can travel with its certs. They are checked at load time (a typo
 * should fail `switchyard validate`, not the first TLS handshake) and handed
 * to the runtime as absolute paths, so nothing later depends on the cwd.
 */
import { accessSync, constants, statSync } from 'node:fs';
import { resolve } from 'node:path';
import { describeFsError } from './describe-fs-error.js';
import { isRecord } from './is-record.js';
import type { Config } from './schema.js';
import type { NodeIssue } from './yaml-locator.js';

const FILES = [
  ['cert', 'TLS certificate'],
  ['key', 'TLS private key'],
] as const;

/** An issue for every listener TLS file under `baseDir` that cannot be read. */
export function tlsFileIssues(data: unknown, baseDir: string): NodeIssue[] {
  const listeners = isRecord(data) ? data['listeners'] : undefined;
  if (!Array.isArray(listeners)) return [];
  const issues: NodeIssue[] = [];
  listeners.forEach((listener: unknown, index) => {
    const tls = isRecord(listener) ? listener['tls'] : undefined;
    if (!isRecord(tls)) return;
    for (const [key, noun] of FILES) {
      const file = tls[key];
      // Empty or non-string paths are the schema's to report.
      if (typeof file !== 'string' || file === '') continue;
      const absolute = resolve(baseDir, file);
      const problem = unreadable(absolute);
      if (problem !== undefined) {
        issues.push({
          path: ['listeners', index, 'tls', key],
          at: 'value',
          message: `cannot read ${noun} ${absolute}: ${problem}`,
        });
      }
    }
  });
  return issues;
}

/** `config` with every listener's TLS paths made absolute against `baseDir`. */
export function resolveTlsPaths(config: Config, baseDir: string): Config {
  return {
    ...config,
    listeners: config.listeners.map((listener) =>
      listener.tls === undefined
        ? listener
        : {
            ...listener,
            tls: {
              cert: resolve(baseDir, listener.tls.cert),
              key: resolve(baseDir, listener.tls.key),
            },
          },
    ),
  };
}

function unreadable(path: string): string | undefined {
  try {
    if (!statSync(path).isFile()) return 'not a regular file';
    accessSync(path, constants.R_OK);
    return undefined;
  } catch (error) {
    return describeFsError(error);
  }
}
