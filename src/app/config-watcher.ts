/**
 * Watches the directory holding the config file, not the file itself: an
 * editor's save-by-rename and a Kubernetes ConfigMap update (`config.yaml`
 * → `..data/config.yaml`, with `..data` a symlink swapped by rename) replace
 * the inode a file watch would follow. Any event in the directory, after a
 * quiet period (debounce), asks for a reload; the reloader's hash check
 * makes events that did not change the file's bytes no-ops.
 */
import { watch, type FSWatcher } from 'node:fs';
import { dirname, resolve } from 'node:path';
import type { Logger } from '../log/logger.js';
import { Debouncer } from './debounce.js';

export const DEFAULT_RELOAD_DEBOUNCE_MS = 100;

export class ConfigWatcher {
  readonly #watcher: FSWatcher;
  readonly #debouncer: Debouncer;

  /** Starts watching at once; `onChange` runs once per burst of events. */
  constructor(path: string, onChange: () => void, logger: Logger, debounceMs: number) {
    this.#debouncer = new Debouncer(debounceMs, onChange);
    const directory = dirname(resolve(path));
    this.#watcher = watch(directory, { persistent: false }, () => this.#debouncer.trigger());
    this.#watcher.on('error', (error) =>
      logger.error(
        { err: error, directory },
        'config watch failed; reload with SIGHUP or POST /reload',
      ),
    );
    logger.debug({ directory }, 'watching config directory');
  }

  close(): void {
    this.#debouncer.cancel();
    this.#watcher.close();
  }
}
