/**
 * Where the `engine:` key takes effect: which listener class accepts client
 * connections. (The session pool picks its upstream session class from the
 * same name.) Everything past these two seams is engine-agnostic.
 */
import { DEFAULTS, type Config, type EngineName } from '../config/schema.js';
import { Listener } from '../listener/listener.js';
import type { ListenerStarter } from '../listener/proxy-listener.js';
import { NativeListener } from './native-listener.js';

export function listenerStarter(engine: EngineName): ListenerStarter {
  switch (engine) {
    case 'nodejs':
      return (config, onCall, logger) => Listener.start(config, onCall, logger);
    case 'switchyard':
      return (config, onCall, logger) => NativeListener.start(config, onCall, logger);
  }
}

/**
 * The engine a config runs on: its `engine:` key, else the environment's
 * SWITCHYARD_ENGINE (so an operator, or the test suite, can switch every
 * config at once), else switchyard (the default since it met issue 9's
 * targets; docs/h2-engine.md). Throws on an unknown SWITCHYARD_ENGINE.
 */
export function engineOf(config: Config): EngineName {
  if (config.engine !== undefined) return config.engine;
  const fromEnvironment = process.env['SWITCHYARD_ENGINE'];
  if (fromEnvironment === undefined || fromEnvironment === '') return DEFAULTS.engine;
  if (fromEnvironment === 'nodejs' || fromEnvironment === 'switchyard') return fromEnvironment;
  throw new Error(`SWITCHYARD_ENGINE must be nodejs or switchyard, not "${fromEnvironment}"`);
}
