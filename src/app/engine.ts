/**
 * Where the `engine:` key takes effect: which listener class accepts client
 * connections. (The session pool picks its upstream session class from the
 * same name.) Everything past these two seams is engine-agnostic.
 */
import type { EngineName } from '../config/schema.js';
import { Listener } from '../listener/listener.js';
import type { ListenerStarter } from '../listener/proxy-listener.js';

export function listenerStarter(engine: EngineName): ListenerStarter {
  switch (engine) {
    case 'nodejs':
      return (config, onCall, logger) => Listener.start(config, onCall, logger);
    case 'switchyard':
      return () => Promise.reject(new Error('engine switchyard is not built yet'));
  }
}
