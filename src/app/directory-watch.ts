/**
 * Watches the directories holding some files, not the files themselves: an
 * editor's save-by-rename, a certificate renewal by rename and a Kubernetes
 * ConfigMap or Secret update (`name` → `..data/name`, with `..data` a
 * symlink swapped by rename) replace the inode a file watch would follow.
 * Any event in those directories, after a quiet period (debounce), calls
 * `onChange` once; the caller compares contents (a hash), so events that did
 * not change the files' bytes are no-ops. Used for the config file
 * (hot reload) and for listeners' TLS files (certificate reload).
 */
import { watch, type FSWatcher } from 'node:fs';
import { dirname, resolve } from 'node:path';
import type { Logger } from '../log/logger.js';
import { Debouncer } from './debounce.js';

export const DEFAULT_RELOAD_DEBOUNCE_MS = 100;

export interface DirectoryWatchOptions {
  readonly logger: Logger;
  readonly debounceMs: number;
  /** What is watched, for the log lines ("config", "TLS files"). */
  readonly what: string;
  /** What still works when a watch fails, for the error line. */
  readonly fallback: string;
}

export class DirectoryWatch {
  readonly #watchers: FSWatcher[] = [];
  readonly #debouncer: Debouncer;

  /** Starts watching at once; `onChange` runs once per burst of events. */
  constructor(files: readonly string[], onChange: () => void, options: DirectoryWatchOptions) {
    const { logger, what, fallback } = options;
    this.#debouncer = new Debouncer(options.debounceMs, onChange);
    for (const directory of new Set(files.map((file) => dirname(resolve(file))))) {
      try {
        const watcher = watch(directory, { persistent: false }, () => this.#debouncer.trigger());
        watcher.on('error', (error) =>
          logger.error({ err: error, directory }, `${what} watch failed; ${fallback}`),
        );
        this.#watchers.push(watcher);
        logger.debug({ directory }, `watching ${what} directory`);
      } catch (error) {
        logger.error({ err: error, directory }, `cannot watch ${what}; ${fallback}`);
      }
    }
  }

  close(): void {
    this.#debouncer.cancel();
    for (const watcher of this.#watchers) watcher.close();
  }
}
