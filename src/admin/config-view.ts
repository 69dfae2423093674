/**
 * The JSON of admin `GET /config`: the running config with secrets redacted
 * (every `tls.key`), its file's sha256 and when it was loaded.
 */
import type { Config } from '../config/schema.js';

export const REDACTED = '[redacted]';

export interface ConfigView {
  readonly path: string;
  readonly hash: string;
  readonly loaded_at: string;
  readonly config: unknown;
}

export function configView(running: {
  readonly path: string;
  readonly hash: string;
  readonly loadedAt: Date;
  readonly config: Config;
}): ConfigView {
  return {
    path: running.path,
    hash: running.hash,
    loaded_at: running.loadedAt.toISOString(),
    config: redact(running.config, undefined),
  };
}

/** A copy of `value` with the `key` of every `tls` mapping replaced. */
function redact(value: unknown, parentKey: string | undefined): unknown {
  if (Array.isArray(value)) return value.map((item) => redact(item, undefined));
  if (value === null || typeof value !== 'object') return value;
  return Object.fromEntries(
    Object.entries(value).map(([key, item]) => [
      key,
      parentKey === 'tls' && key === 'key' ? REDACTED : redact(item, key),
    ]),
  );
}
