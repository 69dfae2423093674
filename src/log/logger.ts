/**
 * The root pino logger. Modules take a child (`logger.child({ module })`) and
 * each call gets its own child carrying the request id, so every line can be
 * joined back to the call that caused it.
 */
import { pino, type Logger, type LevelWithSilent } from 'pino';

export type { Logger };

export interface LoggerOptions {
  readonly level: LevelWithSilent;
  /** Human-readable output via pino-pretty; JSON lines otherwise. */
  readonly pretty: boolean;
  /** Where lines go; stdout when absent (tests pass a stream). */
  readonly destination?: NodeJS.WritableStream;
}

export const LOG_LEVELS: readonly LevelWithSilent[] = [
  'fatal',
  'error',
  'warn',
  'info',
  'debug',
  'trace',
  'silent',
];

export function isLogLevel(value: string): value is LevelWithSilent {
  return (LOG_LEVELS as readonly string[]).includes(value);
}

export function createLogger(options: LoggerOptions): Logger {
  const base = { level: options.level, base: { pid: process.pid }, name: 'switchyard' };
  if (options.pretty) {
    return pino({ ...base, transport: { target: 'pino-pretty', options: { colorize: true } } });
  }
  if (options.destination !== undefined) return pino(base, options.destination);
  return pino(base);
}

/** A logger that drops everything: for tests and tools that must stay quiet. */
export function silentLogger(): Logger {
  return pino({ level: 'silent' });
}
