/**
 * Reloads the config file on request (SIGHUP, `POST /reload`, the file
 * watcher): read → sha256 (unchanged bytes: a no-op) → parse and validate →
 * apply (build the new snapshot, bind new listeners, swap). Any failure
 * leaves the running config in place, is logged issue by issue with its
 * file:line:col, and counts as a refused reload. Reloads run one at a time.
 */
import { LineCounter, parseDocument } from 'yaml';
import { ConfigError, formatIssue, type ConfigIssue } from '../config/config-error.js';
import type { Config } from '../config/schema.js';
import { createLocator } from '../config/yaml-locator.js';
import type { Logger } from '../log/logger.js';
import type { ReloadMetrics } from '../metrics/reload-metrics.js';
import { ApplyError } from './apply-error.js';
import {
  parseConfigFile,
  readConfigFile,
  type ConfigFile,
  type LoadedConfig,
} from './config-source.js';

export type ReloadResult =
  | { readonly result: 'applied'; readonly hash: string }
  | { readonly result: 'unchanged'; readonly hash: string }
  | { readonly result: 'refused'; readonly errors: readonly string[] };

export interface RunningConfig {
  readonly path: string;
  readonly hash: string;
  readonly config: Config;
  readonly loadedAt: Date;
}

export interface ConfigReloaderOptions {
  readonly initial: LoadedConfig;
  /** Applies a validated config; throws ApplyError (or anything) to refuse it. */
  readonly apply: (config: Config) => Promise<void>;
  readonly metrics: ReloadMetrics;
  readonly logger: Logger;
}

export class ConfigReloader {
  readonly #apply: (config: Config) => Promise<void>;
  readonly #metrics: ReloadMetrics;
  readonly #logger: Logger;
  #running: RunningConfig;
  #queue: Promise<unknown> = Promise.resolve();

  constructor(options: ConfigReloaderOptions) {
    const { path, hash, config } = options.initial;
    this.#running = { path, hash, config, loadedAt: new Date() };
    this.#apply = options.apply;
    this.#metrics = options.metrics;
    this.#logger = options.logger;
    this.#metrics.loaded(this.#running.loadedAt);
  }

  /** The config in force, its file's hash and when it was loaded. */
  get running(): RunningConfig {
    return this.#running;
  }

  /** Reloads the file, after any reload already under way; never rejects. */
  reload(trigger: string): Promise<ReloadResult> {
    const result = this.#queue.then(() => this.#reloadOnce(trigger));
    this.#queue = result;
    return result;
  }

  async #reloadOnce(trigger: string): Promise<ReloadResult> {
    let file: ConfigFile | undefined;
    try {
      file = await readConfigFile(this.#running.path);
      if (file.hash === this.#running.hash) {
        this.#metrics.unchanged();
        this.#logger.debug({ trigger, hash: file.hash }, 'config unchanged; nothing to reload');
        return { result: 'unchanged', hash: file.hash };
      }
      const loaded = parseConfigFile(file);
      await this.#apply(loaded.config);
      const loadedAt = new Date();
      this.#running = { path: loaded.path, hash: loaded.hash, config: loaded.config, loadedAt };
      this.#metrics.applied(loadedAt);
      this.#logger.info({ trigger, hash: loaded.hash }, 'config reloaded');
      return { result: 'applied', hash: loaded.hash };
    } catch (error) {
      const issues = reloadIssues(error, file ?? { path: this.#running.path, text: '', hash: '' });
      const errors = issues.map(formatIssue);
      for (const line of errors) this.#logger.error({ trigger, issue: line }, line);
      this.#logger.error(
        { trigger, errors: errors.length, hash: this.#running.hash },
        'config reload refused; the running config stays',
      );
      this.#metrics.refused();
      return { result: 'refused', errors };
    }
  }
}

/** Every refusal as ConfigIssues with positions in `file`. */
function reloadIssues(error: unknown, file: ConfigFile): readonly ConfigIssue[] {
  if (error instanceof ConfigError) return error.issues;
  if (error instanceof ApplyError) {
    const lineCounter = new LineCounter();
    const locator = createLocator(parseDocument(file.text, { lineCounter }), lineCounter);
    return new ConfigError(error.issues.map((issue) => locator.issue(file.path, issue))).issues;
  }
  const message = error instanceof Error ? error.message : String(error);
  return [{ file: file.path, line: 1, col: 1, path: '', message: `reload failed: ${message}` }];
}
