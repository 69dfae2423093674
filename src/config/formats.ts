/**
 * The custom string formats the config schema names, each with the message a
 * user sees when a value does not match it. Keeping the check and the message
 * together stops them drifting apart.
 */
import type { Ajv } from 'ajv';
import { parseByteSize } from './byte-size.js';
import { parseDuration } from './duration.js';
import { isIP } from 'node:net';
import { parseHostPort } from './host-port.js';

/** Shortest DNS re-resolution interval accepted (`refresh` of a `dns` endpoint). */
export const MIN_DNS_REFRESH_MS = 100;

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
  // A name to resolve; an IP address there would never change, so it belongs in `address`.
  'dns-target': {
    validate: (text) => {
      const parsed = parseHostPort(text);
      return parsed !== undefined && parsed.port >= 1 && isIP(parsed.host) === 0;
    },
    message:
      'expected name:port, a DNS name to resolve (port 1-65535); put an IP address in address',
  },
  'dns-refresh': {
    validate: (text) => (parseDuration(text) ?? 0) >= MIN_DNS_REFRESH_MS,
    message: `expected a duration of at least ${MIN_DNS_REFRESH_MS}ms, such as 5s`,
  },
};

/** Registers every config format on `ajv`; returns it for chaining. */
export function addConfigFormats(ajv: Ajv): Ajv {
  for (const [name, format] of Object.entries(CONFIG_FORMATS)) {
    ajv.addFormat(name, { type: 'string', validate: format.validate });
  }
  return ajv;
}
