/**
 * What a reload does to listeners, by name: unchanged ones are kept as they
 * are (their connections untouched); new ones, and changed ones moving to
 * another address, are bound before the swap (so a port that cannot be bound
 * refuses the reload and the running config stays); changed ones keeping
 * their address are rebound after the swap (the old one must let go of the
 * port first); removed ones drain after the swap.
 */
import { parseHostPort } from '../config/host-port.js';
import type { Config, ListenerConfig } from '../config/schema.js';
import { sameConfig } from './same-config.js';

export interface PlannedListener {
  /** Index in the new config's `listeners` (for error positions). */
  readonly index: number;
  readonly config: ListenerConfig;
}

export interface ListenerPlan {
  readonly keep: readonly string[];
  /** Bound before the swap. */
  readonly open: readonly PlannedListener[];
  /** The old one closes, then this binds, after the swap. */
  readonly rebind: readonly PlannedListener[];
  /** Names whose running listener drains after the swap (removed, or replaced by `open`). */
  readonly close: readonly string[];
}

export function planListeners(running: Config, next: Config): ListenerPlan {
  const before = new Map(running.listeners.map((l) => [l.name, l]));
  const keep: string[] = [];
  const open: PlannedListener[] = [];
  const rebind: PlannedListener[] = [];
  const close: string[] = [];
  next.listeners.forEach((config, index) => {
    const old = before.get(config.name);
    if (old === undefined) open.push({ index, config });
    else if (sameConfig(old, config)) keep.push(config.name);
    else if (old.address === config.address && parseHostPort(config.address)?.port !== 0)
      rebind.push({ index, config });
    else {
      open.push({ index, config });
      close.push(config.name);
    }
  });
  const names = new Set(next.listeners.map((l) => l.name));
  for (const name of before.keys()) if (!names.has(name)) close.push(name);
  return { keep, open, rebind, close };
}
