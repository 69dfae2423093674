/**
 * A real pino logger whose JSON lines are kept in memory, for tests that
 * check what the proxy logged (access log lines, warnings).
 */
import { Writable } from 'node:stream';
import { createLogger, type Logger } from '../../src/log/logger.js';
import { isRecord } from '../../src/config/is-record.js';

export type LogLine = Readonly<Record<string, unknown>>;

export interface CapturedLog {
  readonly logger: Logger;
  /** Every line logged so far, parsed. */
  readonly lines: readonly LogLine[];
  /** Polls (every 10 ms, at most `timeoutMs`) until a line satisfies `match`; rejects on timeout. */
  waitFor(match: (line: LogLine) => boolean, timeoutMs?: number): Promise<LogLine>;
}

export function captureLog(level: 'debug' | 'info' | 'warn' = 'debug'): CapturedLog {
  const lines: LogLine[] = [];
  let pending = '';
  const destination = new Writable({
    write(chunk: Buffer, _encoding, callback) {
      pending += chunk.toString('utf8');
      let newline = pending.indexOf('\n');
      while (newline >= 0) {
        const text = pending.slice(0, newline);
        pending = pending.slice(newline + 1);
        const parsed: unknown = JSON.parse(text);
        if (isRecord(parsed)) lines.push(parsed);
        newline = pending.indexOf('\n');
      }
      callback();
    },
  });
  const logger = createLogger({ level, pretty: false, destination });
  return {
    logger,
    lines,
    async waitFor(match, timeoutMs = 5000) {
      const deadline = performance.now() + timeoutMs;
      for (;;) {
        const found = lines.find(match);
        if (found !== undefined) return found;
        if (performance.now() > deadline) {
          throw new Error(`no matching log line within ${String(timeoutMs)} ms`);
        }
        await new Promise((resolve) => setTimeout(resolve, 10));
      }
    },
  };
}
