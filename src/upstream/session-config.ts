/**
 * The cluster keys that shape its backend connections (`idle_timeout`,
 * `keepalive`), as the session pool takes them.
 */
import { requireDuration } from '../config/duration.js';
import { DEFAULTS, type ClusterConfig } from '../config/schema.js';
import type { KeepaliveOptions } from './pooled-session.js';

export interface SessionLifecycleOptions {
  readonly idleTimeoutMs: number;
  readonly keepalive: KeepaliveOptions | undefined;
}

export function sessionLifecycleOptions(config: ClusterConfig): SessionLifecycleOptions {
  const keepalive = config.keepalive;
  return {
    idleTimeoutMs: requireDuration(config.idle_timeout ?? DEFAULTS.idleTimeout),
    keepalive:
      keepalive === undefined
        ? undefined
        : {
            intervalMs: requireDuration(keepalive.interval),
            timeoutMs: requireDuration(keepalive.timeout ?? DEFAULTS.keepaliveTimeout),
          },
  };
}
