/**
 * The built `switchyard` CLI as a child process on a config file, its ports
 * read from its JSON log lines; killed at teardown if still running.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import type { TestContext } from './context.js';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const MAIN = `${ROOT}dist/src/cli/main.js`;
export const BOUND_MS = 10_000;

interface LogLine {
  readonly msg?: unknown;
  readonly address?: { readonly port?: unknown };
}

export interface RunningCli {
  readonly child: ChildProcess;
  readonly address: string;
  readonly admin: string;
  /** Every log line's `msg` so far, in order. */
  readonly messages: readonly string[];
  /** Resolves with the first log line whose `msg` is `msg`. */
  logged(msg: string): Promise<void>;
  readonly exited: Promise<number | null>;
}

/** Starts `switchyard --config path --log-level info`; resolves once it logged "switchyard ready". */
export async function spawnSwitchyard(t: TestContext, path: string): Promise<RunningCli> {
  const child = spawn(process.execPath, [MAIN, '--config', path, '--log-level', 'info'], {
    cwd: ROOT,
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  const exited = new Promise<number | null>((resolve) => child.once('exit', resolve));
  t.teardown(() => {
    if (child.exitCode === null) child.kill('SIGKILL');
  });
  const waiting = new Map<string, () => void>();
  const seen = new Set<string>();
  const messages: string[] = [];
  let listener: number | undefined;
  let admin: number | undefined;
  createInterface({ input: child.stdout }).on('line', (text) => {
    let line: LogLine;
    try {
      line = JSON.parse(text) as LogLine;
    } catch {
      return;
    }
    if (typeof line.msg !== 'string') return;
    const port = line.address?.port;
    if (line.msg === 'listening' && typeof port === 'number') listener = port;
    if (line.msg === 'admin listening' && typeof port === 'number') admin = port;
    seen.add(line.msg);
    messages.push(line.msg);
    waiting.get(line.msg)?.();
  });
  const logged = (msg: string): Promise<void> =>
    seen.has(msg)
      ? Promise.resolve()
      : new Promise((resolve, reject) => {
          const timer = setTimeout(() => reject(new Error(`no "${msg}" log line`)), BOUND_MS);
          waiting.set(msg, () => {
            clearTimeout(timer);
            resolve();
          });
        });
  await Promise.race([
    logged('switchyard ready'),
    exited.then((code) => {
      throw new Error(`switchyard exited with ${String(code)} before it was ready`);
    }),
  ]);
  if (listener === undefined || admin === undefined) throw new Error('ports not logged');
  return {
    child,
    address: `127.0.0.1:${listener}`,
    admin: `http://127.0.0.1:${admin}`,
    messages,
    logged,
    exited,
  };
}
