/**
 * The root pino logger. Modules take a child (`logger.child({ module })`) and
 * each call gets its own child carrying the request id, so every line can be
 * joined back to the call that caused it.
 */
import { pino, type DestinationStream, type Logger, type LevelWithSilent } from 'pino';
import { LineBatch } from './line-batch.js';

export type { Logger };

export interface LoggerOptions {
  readonly level: LevelWithSilent;
  /** Human-readable output via pino-pretty; JSON lines otherwise. */
  readonly pretty: boolean;
  /** Where lines go; stdout when absent (tests pass a stream or a LineBatch). */
  readonly destination?: DestinationStream;
  /**
   * Buffer stdout writes (for the access log: one line per call). Lifecycle
   * lines stay unbuffered so that "ready" is on stdout before /readyz says so.
   */
  readonly buffered?: boolean;
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
  return options.buffered === true ? pino(base, bufferedStdout()) : pino(base);
}

/**
 * stdout through a batch of lines: one write(2) per many access-log lines
 * instead of one per call (measured: the per-line writes cost about a tenth
 * of the proxy's CPU under load). Each line is encoded straight into a
 * 64 KiB buffer (line-batch.ts), which goes to sonic-boom whole (in its
 * buffer mode) when full: no joined string, no UTF-8 length measured per
 * line, no string conversion at write time (measured: half the per-line cost
 * of joining lines into one string, mostly garbage collection). sonic-boom
 * still does the writing (partial writes, EAGAIN, flushSync). Flushed every
 * 250 ms so quiet periods still show their lines promptly, and synchronously
 * at exit.
 */
function bufferedStdout(): LineBatch {
  const stream = pino.destination({ dest: 1, sync: false, contentMode: 'buffer' });
  const lines = new LineBatch({
    // In buffer mode sonic-boom takes Buffers; its types only know strings.
    write: (chunk) => void stream.write(chunk as unknown as string),
    flushSync: () => stream.flushSync(),
  });
  setInterval(() => lines.flushBatch(), 250).unref();
  process.once('exit', () => {
    try {
      lines.flushSync();
    } catch {
      // stdout already closed: nothing left to save.
    }
  });
  return lines;
}

/** A logger that drops everything: for tests and tools that must stay quiet. */
export function silentLogger(): Logger {
  return pino({ level: 'silent' });
}
