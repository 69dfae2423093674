/** The number of worker processes `workers` (or `--workers`) asks for (docs/workers.md). */
import { availableParallelism } from 'node:os';
import { DEFAULTS, type Config } from '../config/schema.js';

/** `auto` is the available parallelism; absent is 1 (one process, no workers). */
export function workerCount(setting: Config['workers']): number {
  if (setting === 'auto') return availableParallelism();
  return setting ?? DEFAULTS.workers;
}
