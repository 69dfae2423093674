/**
 * The admin `POST /reload` reply for a reload's result: 200 with the applied
 * (or unchanged) config hash, or 400 with every reason the config was refused.
 * One wording for the single-process proxy and the workers' primary.
 */
import type { ReloadResult } from '../app/config-reloader.js';
import type { AdminReply } from './admin-server.js';

export function reloadReply(outcome: ReloadResult): AdminReply {
  switch (outcome.result) {
    case 'applied':
      return { status: 200, body: `reloaded ${outcome.hash}` };
    case 'unchanged':
      return { status: 200, body: `unchanged ${outcome.hash}` };
    case 'refused':
      return { status: 400, body: outcome.errors.join('\n') };
  }
}
