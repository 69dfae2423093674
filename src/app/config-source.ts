/**
 * The config file as the reloader sees it: its bytes, their sha256 (an
 * unchanged file is a no-op reload) and the parsed, validated Config.
 */
import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { ConfigError } from '../config/config-error.js';
import { describeFsError } from '../config/describe-fs-error.js';
import { parseConfigText } from '../config/load-config.js';
import type { Config } from '../config/schema.js';

export interface ConfigFile {
  readonly path: string;
  /** Raw bytes as read (positions in errors refer to them). */
  readonly text: string;
  /** Hex sha256 of the bytes. */
  readonly hash: string;
}

export interface LoadedConfig extends ConfigFile {
  readonly config: Config;
}

export function sha256(bytes: Buffer | string): string {
  return createHash('sha256').update(bytes).digest('hex');
}

/** Reads `path` (following symlinks); a read failure is a ConfigError at 1:1. */
export async function readConfigFile(path: string): Promise<ConfigFile> {
  let bytes: Buffer;
  try {
    bytes = await readFile(path);
  } catch (error) {
    throw new ConfigError([
      {
        file: path,
        line: 1,
        col: 1,
        path: '',
        message: `cannot read config: ${describeFsError(error)}`,
      },
    ]);
  }
  return { path, text: bytes.toString('utf8'), hash: sha256(bytes) };
}

/** Parses and validates a file read by readConfigFile; throws ConfigError. */
export function parseConfigFile(file: ConfigFile): LoadedConfig {
  return { ...file, config: parseConfigText(file.text, file.path) };
}

/** readConfigFile then parseConfigFile. */
export async function loadConfigSource(path: string): Promise<LoadedConfig> {
  return parseConfigFile(await readConfigFile(path));
}
