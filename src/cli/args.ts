/** Command-line parsing: `switchyard [run] [options]` and `switchyard validate FILE`. */
import { parseArgs } from 'node:util';
import type { LevelWithSilent } from 'pino';
import { isLogLevel, LOG_LEVELS } from '../log/logger.js';

export type Command =
  | {
      kind: 'run';
      configPath: string;
      logLevel: LevelWithSilent;
      logPretty: boolean;
      /** `--workers`: overrides the config's `workers` when given. */
      workers?: Workers;
    }
  | { kind: 'validate'; configPath: string }
  | { kind: 'version' }
  | { kind: 'help' };

/** A worker count: `auto` (available parallelism) or an integer >= 1. */
export type Workers = 'auto' | number;

export const USAGE = `Usage:
  switchyard [--config FILE] [--log-level LEVEL] [--log-pretty] [--workers auto|N]
      Run the proxy (default config: ./config.yaml).
  switchyard validate FILE
      Check a config file; exit 0 if valid, 1 with every error.
  switchyard --version | --help

Options:
  -c, --config FILE      config file (YAML)
      --log-level LEVEL  ${LOG_LEVELS.join(', ')} (default info)
      --log-pretty       human-readable logs instead of JSON lines
      --workers auto|N   worker processes (overrides the config's workers; default 1)
  -v, --version          print the version
  -h, --help             print this help
`;

export class UsageError extends Error {
  override name = 'UsageError';
}

export function parseCommand(argv: readonly string[]): Command {
  let parsed;
  try {
    parsed = parseArgs({
      args: [...argv],
      allowPositionals: true,
      options: {
        config: { type: 'string', short: 'c' },
        'log-level': { type: 'string' },
        'log-pretty': { type: 'boolean' },
        workers: { type: 'string' },
        version: { type: 'boolean', short: 'v' },
        help: { type: 'boolean', short: 'h' },
      },
    });
  } catch (error) {
    throw new UsageError(error instanceof Error ? error.message : String(error));
  }
  const { values, positionals } = parsed;
  if (values.help === true) return { kind: 'help' };
  if (values.version === true) return { kind: 'version' };
  const [verb, ...rest] = positionals;
  if (verb === 'validate') {
    if (rest[0] !== undefined && values.config !== undefined) {
      throw new UsageError('validate takes FILE or --config FILE, not both');
    }
    const file = rest[0] ?? values.config;
    if (file === undefined || rest.length > 1) throw new UsageError('validate takes one FILE');
    return { kind: 'validate', configPath: file };
  }
  if (verb !== undefined && verb !== 'run') throw new UsageError(`unknown command "${verb}"`);
  if (rest.length > 0) throw new UsageError(`unexpected argument "${rest[0] ?? ''}"`);
  const level = values['log-level'] ?? 'info';
  if (!isLogLevel(level)) {
    throw new UsageError(`--log-level must be one of ${LOG_LEVELS.join(', ')}; got "${level}"`);
  }
  const workers = values.workers === undefined ? undefined : parseWorkers(values.workers);
  return {
    kind: 'run',
    configPath: values.config ?? 'config.yaml',
    logLevel: level,
    logPretty: values['log-pretty'] === true,
    ...(workers === undefined ? {} : { workers }),
  };
}

function parseWorkers(text: string): Workers {
  if (text === 'auto') return 'auto';
  const count = /^[1-9][0-9]{0,3}$/.test(text) ? Number(text) : Number.NaN;
  if (Number.isNaN(count))
    throw new UsageError(`--workers must be auto or an integer >= 1; got "${text}"`);
  return count;
}
