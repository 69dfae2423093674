/**
 * The proxy process's V8 garbage-collector setting: incremental marking
 * off, unless the node flags the process was started with say otherwise.
 *
 * Why (docs/decisions.md, measured under load on Node 20 and 26): with
 * incremental marking on, an old-generation marking cycle was nearly always
 * under way, and every young-generation collection that ran during one
 * kept about a third of the young objects alive and promoted them (30-55 ms
 * per collection, every ~150 ms), which started the next marking cycle
 * sooner. Off, the same load ran 2-3 ms collections with a few percent
 * surviving and no old-generation collection in 15 s; the end-to-end
 * benchmark shows no clear gain yet (docs/decisions.md says when to drop
 * this). An old-generation collection, when needed, is then one pause
 * (tens of milliseconds for a proxy's heap).
 *
 * Set at start with v8.setFlagsFromString, before the proxy allocates much;
 * Node reads the flag each time a collection starts, so this takes effect
 * (measured: the same collection times as the command-line flag).
 */
import { setFlagsFromString } from 'node:v8';

/** Node flags that choose incremental marking themselves. */
const INCREMENTAL_MARKING_FLAG = /^--(no-)?incremental[-_]marking(=|$)/;

/**
 * Whether to turn incremental marking off: not when the process's own
 * flags (`execArgv`, `NODE_OPTIONS`) already choose it either way, nor when
 * SWITCHYARD_V8_GC=default asks for V8's defaults.
 */
export function shouldDisableIncrementalMarking(
  execArgv: readonly string[],
  env: NodeJS.ProcessEnv,
): boolean {
  if (env['SWITCHYARD_V8_GC'] === 'default') return false;
  const nodeOptions = (env['NODE_OPTIONS'] ?? '').split(/\s+/);
  return ![...execArgv, ...nodeOptions].some((flag) => INCREMENTAL_MARKING_FLAG.test(flag));
}

/** Applies the setting to this process (each worker process calls it too). */
export function tuneGarbageCollector(): void {
  if (shouldDisableIncrementalMarking(process.execArgv, process.env)) {
    setFlagsFromString('--no-incremental-marking');
  }
}
