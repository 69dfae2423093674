/**
 * TLS certificate, key and CA paths (listeners and clusters) are written relative to the config file, so
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

const LISTENER_FILES = [
  ['cert', 'TLS certificate'],
  ['key', 'TLS private key'],
  ['client_ca', 'TLS client CA'],
] as const;

const CLUSTER_FILES = [
  ['ca', 'upstream TLS CA'],
  ['cert', 'upstream TLS client certificate'],
  ['key', 'upstream TLS client key'],
] as const;

/**
 * An issue for every listener and cluster TLS file under `baseDir` that
 * cannot be read, and for a cluster `tls` with only one of cert and key.
 */
export function tlsFileIssues(data: unknown, baseDir: string): NodeIssue[] {
  const issues: NodeIssue[] = [];
  for (const [section, files] of [
    ['listeners', LISTENER_FILES],
    ['clusters', CLUSTER_FILES],
  ] as const) {
    const items = isRecord(data) ? data[section] : undefined;
    if (!Array.isArray(items)) continue;
    items.forEach((item: unknown, index) => {
      const tls = isRecord(item) ? item['tls'] : undefined;
      if (!isRecord(tls)) return;
      for (const [key, noun] of files) {
        const file = tls[key];
        // Empty or non-string paths are the schema's to report.
        if (typeof file !== 'string' || file === '') continue;
        const absolute = resolve(baseDir, file);
        const problem = unreadable(absolute);
        if (problem !== undefined) {
          issues.push({
            path: [section, index, 'tls', key],
            at: 'value',
            message: `cannot read ${noun} ${absolute}: ${problem}`,
          });
        }
      }
      if (section === 'clusters' && (tls['cert'] === undefined) !== (tls['key'] === undefined)) {
        const [has, lacks] = tls['cert'] === undefined ? ['key', 'cert'] : ['cert', 'key'];
        issues.push({
          path: [section, index, 'tls', has],
          at: 'key',
          message: `upstream TLS ${has} needs ${lacks} too (a client certificate and its key go together)`,
        });
      }
    });
  }
  return issues;
}

/** `config` with every listener's and cluster's TLS paths made absolute against `baseDir`. */
export function resolveTlsPaths(config: Config, baseDir: string): Config {
  const abs = (file: string): string => resolve(baseDir, file);
  return {
    ...config,
    listeners: config.listeners.map((listener) => {
      const tls = listener.tls;
      if (tls === undefined) return listener;
      return {
        ...listener,
        tls: {
          cert: abs(tls.cert),
          key: abs(tls.key),
          ...(tls.client_ca === undefined ? {} : { client_ca: abs(tls.client_ca) }),
        },
      };
    }),
    clusters: config.clusters.map((cluster) => {
      const tls = cluster.tls;
      if (tls === undefined) return cluster;
      return {
        ...cluster,
        tls: {
          ...tls,
          ...(tls.ca === undefined ? {} : { ca: abs(tls.ca) }),
          ...(tls.cert === undefined ? {} : { cert: abs(tls.cert) }),
          ...(tls.key === undefined ? {} : { key: abs(tls.key) }),
        },
      };
    }),
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
