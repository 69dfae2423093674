/**
 * The built `switchyard` CLI as a child process on a config file, its ports
 * read from its JSON log lines; killed at teardown if still running.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { createInterface } from 'node:readline';
import type { TestContext } from './context.js';
import { REPO_ROOT, repoPath } from './repo-root.js';

const ROOT = REPO_ROOT;
const MAIN = repoPath('dist', 'src', 'cli', 'main.js');
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
  /** Every JSON log line so far, in order. */
  readonly records: readonly Readonly<Record<string, unknown>>[];
  /** Resolves with the first log line whose `msg` is `msg` (rejects after `boundMs`, default BOUND_MS). */
  logged(msg: string, boundMs?: number): Promise<void>;
  readonly exited: Promise<number | null>;
}

export interface SpawnOptions {
  /** More command-line arguments. */
  readonly args?: readonly string[];
  /** The log line that says it is ready; default "switchyard ready". */
  readonly ready?: string;
  /** Longest to wait for it; default BOUND_MS. */
  readonly readyBoundMs?: number;
}

/** Starts `switchyard --config path --log-level info`; resolves once it logged "switchyard ready". */
export async function spawnSwitchyard(
  t: TestContext,
  path: string,
  options: SpawnOptions = {},
): Promise<RunningCli> {
  const args = [MAIN, '--config', path, '--log-level', 'info', ...(options.args ?? [])];
  const child = spawn(process.execPath, args, {
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
  const records: Readonly<Record<string, unknown>>[] = [];
  let listener: number | undefined;
  let admin: number | undefined;
  const echo = process.env['SWITCHYARD_TEST_LOG'] === '1';
  createInterface({ input: child.stdout }).on('line', (text) => {
    if (echo) process.stderr.write(`${text}\n`);
    let line: LogLine;
    try {
      line = JSON.parse(text) as LogLine;
    } catch {
      messages.push(`(not JSON) ${text}`);
      return;
    }
    if (typeof line.msg !== 'string') return;
    records.push(line as Readonly<Record<string, unknown>>);
    const port = line.address?.port;
    if (line.msg === 'listening' && typeof port === 'number') listener = port;
    if (line.msg === 'admin listening' && typeof port === 'number') admin = port;
    seen.add(line.msg);
    messages.push(line.msg);
    waiting.get(line.msg)?.();
  });
  const logged = (msg: string, boundMs = BOUND_MS): Promise<void> =>
    seen.has(msg)
      ? Promise.resolve()
      : new Promise((resolve, reject) => {
          const timer = setTimeout(() => reject(new Error(`no "${msg}" log line`)), boundMs);
          waiting.set(msg, () => {
            clearTimeout(timer);
            resolve();
          });
        });
  await Promise.race([
    logged(options.ready ?? 'switchyard ready', options.readyBoundMs),
    exited.then(async (code) => {
      // Let the last lines through readline before reporting them.
      await new Promise((resolve) => setTimeout(resolve, 500));
      throw new Error(
        `switchyard exited with ${String(code)} before it was ready; it logged: ${messages.join(' | ')}`,
      );
    }),
  ]);
  if (listener === undefined || admin === undefined) throw new Error('ports not logged');
  return {
    child,
    address: `127.0.0.1:${listener}`,
    admin: `http://127.0.0.1:${admin}`,
    messages,
    records,
    logged,
    exited,
  };
}
