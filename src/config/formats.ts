/**
 * The custom string formats the config schema names, each with the message a
 * user sees when a value does not match it. Keeping the check and the message
 * together stops them drifting apart.
 */
import type { Ajv } from 'ajv';
import { parseByteSize } from './byte-size.js';
import { parseDuration } from './duration.js';
import { parseHostPort } from './host-port.js';

export interface ConfigFormat {
  readonly validate: (text: string) => boolean;
  /** Completes "config.yaml:3:5 some.path: ..." when the value does not match. */
  readonly message: string;
}

export const CONFIG_FORMATS: Readonly<Record<string, ConfigFormat>> = {
  duration: {
    validate: (text) => parseDuration(text) !== undefined,
    message: 'expected a duration such as 250ms, 5s or 1m',
  },
  'byte-size': {
    validate: (text) => parseByteSize(text) !== undefined,
    message: 'expected a byte size such as 64KiB or 16MiB',
  },
  // Port 0 asks the OS for a free port, which is useful for tests and demos.
  'listen-address': {
    validate: (text) => parseHostPort(text) !== undefined,
    message: 'expected host:port',
  },
  // Nothing listens on port 0, so a backend there is always a mistake.
  'endpoint-address': {
    validate: (text) => (parseHostPort(text)?.port ?? 0) >= 1,
    message: 'expected host:port (port 1-65535)',
  },
};

/** Registers every config format on `ajv`; returns it for chaining. */
export function addConfigFormats(ajv: Ajv): Ajv {
  for (const [name, format] of Object.entries(CONFIG_FORMATS)) {
    ajv.addFormat(name, { type: 'string', validate: format.validate });
  }
  return ajv;
}
