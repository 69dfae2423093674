/**
 * Fuzzing the config loader: on any text, and on any JSON-like value written
 * as YAML, `parseConfigText` returns a config or throws a ConfigError, never
 * anything else, and never hangs (inputs are bounded in size).
 */
import fc from 'fast-check';
import t from 'tap';
import { stringify } from 'yaml';
import { ConfigError } from '../../src/config/config-error.js';
import { parseConfigText } from '../../src/config/load-config.js';
import { fuzzParameters } from './runs.js';

/** Loads `text`; returns what it threw when that was not a ConfigError. */
function unexpected(text: string): Error | undefined {
  try {
    parseConfigText(text, 'fuzz.yaml');
    return undefined;
  } catch (error) {
    if (error instanceof ConfigError) return undefined;
    return error instanceof Error ? error : new Error(`threw a non-Error: ${String(error)}`);
  }
}

/** Pieces of YAML syntax and of Switchyard configs, so that texts get far into the loader. */
const TOKENS = [
  'listeners:',
  'routes:',
  'clusters:',
  'admin:',
  'limits:',
  'endpoints:',
  'match:',
  'name: a',
  'address: 127.0.0.1:0',
  'cluster: a',
  'service: a.B',
  'prefix: /',
  'max_concurrent_streams: 1',
  'max_message_size: 1KiB',
  'idle_timeout: 1s',
  'timeout: 5s',
  'tls:',
  'cert: /nonexistent',
  'retry:',
  'retry_on: [unavailable]',
  'weight: 0',
  '- ',
  '  ',
  '    ',
  '\n',
  ':',
  ': ',
  '{',
  '}',
  '[',
  ']',
  ',',
  '"',
  "'",
  '#',
  '&a ',
  '*a',
  '<<: *a',
  '!!str ',
  '!!binary ',
  '---',
  '...',
  '|',
  '>',
  '?',
  '%YAML 1.2',
  '\t',
  '~',
  'null',
  '1e999',
  '-0',
  '0x10',
  '.inf',
  '127.0.0.1:50051',
  '\u0000',
  '\ufeff',
  '\u2028',
] as const;

const yamlish = fc
  .array(fc.oneof(fc.constantFrom(...TOKENS), fc.string({ maxLength: 8 })), { maxLength: 60 })
  .map((parts) => parts.join(''));

/** A valid config, with any subtree replaced by arbitrary values. */
const VALID = {
  listeners: [{ name: 'l', address: '127.0.0.1:0', limits: { max_concurrent_streams: 10 } }],
  routes: [{ name: 'r', match: { service: 'a.B' }, cluster: 'c' }],
  clusters: [{ name: 'c', endpoints: ['127.0.0.1:50051'] }],
};

const jsonish = fc.jsonValue({ maxDepth: 4 });

const mutated = fc
  .tuple(
    fc.constantFrom('listeners', 'routes', 'clusters', 'admin', 'drain_timeout', 'extra'),
    fc.constantFrom(0, 1),
    fc.constantFrom('name', 'address', 'limits', 'match', 'cluster', 'endpoints', 'retry', 'tls'),
    jsonish,
  )
  .map(([top, index, key, value]) => {
    const config: Record<string, unknown> = structuredClone(VALID);
    const list = config[top];
    if (Array.isArray(list) && index < list.length) {
      const item: unknown = list[index];
      if (typeof item === 'object' && item !== null) (item as Record<string, unknown>)[key] = value;
    } else {
      config[top] = value;
    }
    return config;
  });

void t.test('any YAML-ish text: a config or a ConfigError', (t) => {
  fc.assert(
    fc.property(fc.oneof(yamlish, fc.string({ maxLength: 200 })), (text) => {
      const error = unexpected(text);
      if (error !== undefined) throw error;
    }),
    fuzzParameters(),
  );
  t.pass('never threw anything but ConfigError');
  t.end();
});

void t.test('any JSON-like value, as YAML or JSON: a config or a ConfigError', (t) => {
  fc.assert(
    fc.property(fc.oneof(jsonish, mutated), fc.boolean(), (value, asJson) => {
      const text = asJson ? JSON.stringify(value) : stringify(value);
      const error = unexpected(text);
      if (error !== undefined) throw error;
    }),
    fuzzParameters(),
  );
  t.pass('never threw anything but ConfigError');
  t.end();
});

void t.test(
  'the loader accepts the unmutated config (the properties above can pass for a reason)',
  (t) => {
    t.ok(parseConfigText(stringify(VALID), 'fuzz.yaml'));
    t.end();
  },
);
