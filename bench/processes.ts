/** Child processes for the benchmark: spawn pinned to a CPU, wait for "ready" (CPU time: process-tree-cpu.ts). */
import { spawn, type ChildProcess } from 'node:child_process';
import net from 'node:net';
import type { Readable } from 'node:stream';

/** A target that cannot be measured in this run (not installed, did not start, wrong engine). */
export class Unavailable extends Error {}

export interface Started {
  readonly child: ChildProcess;
  readonly port: number;
}

/** Spawns `command` pinned to `cpu` (a taskset -c list) with taskset and waits for a "ready PORT" line. */
export async function startReady(
  cpu: number | string,
  command: readonly string[],
): Promise<Started> {
  const child = spawn('taskset', ['-c', String(cpu), ...command], {
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  return new Promise((resolve, reject) => {
    let buffered = '';
    const onData = (chunk: Buffer): void => {
      buffered += chunk.toString('utf8');
      const match = /ready (\d+)/.exec(buffered);
      if (match !== null) {
        child.stdout.off('data', onData);
        child.stdout.resume();
        resolve({ child, port: Number(match[1]) });
      }
    };
    child.stdout.on('data', onData);
    child.once('exit', (code) => reject(new Error(`${command.join(' ')} exited with ${code}`)));
  });
}

/** Spawns a process pinned to `cpu` whose stdout is discarded; stderr is piped (see TailLines). */
export function startQuiet(
  cpu: number | string,
  command: readonly string[],
  env: NodeJS.ProcessEnv = process.env,
): ChildProcess {
  return spawn('taskset', ['-c', String(cpu), ...command], {
    stdio: ['ignore', 'ignore', 'pipe'],
    env,
  });
}

/** The last lines a stream wrote (those `keep` accepts), for error messages. */
export class TailLines {
  readonly #lines: string[] = [];
  #partial = '';

  constructor(
    stream: Readable | null,
    private readonly max = 10,
    private readonly keep: (line: string) => boolean = () => true,
  ) {
    stream?.on('data', (chunk: Buffer) => {
      const text = this.#partial + chunk.toString('utf8');
      const lines = text.split('\n');
      this.#partial = lines.pop() ?? '';
      for (const line of lines) this.#add(line);
    });
  }

  #add(line: string): void {
    if (line.trim() === '' || !this.keep(line)) return;
    this.#lines.push(line.length > 400 ? `${line.slice(0, 400)}...` : line);
    if (this.#lines.length > this.max) this.#lines.shift();
  }

  text(): string {
    if (this.#partial !== '') this.#add(this.#partial);
    this.#partial = '';
    return this.#lines.join(' | ');
  }
}

/** Resolves when `ready` does; rejects with Unavailable if the child exits first. */
export async function readyOrExit(
  child: ChildProcess,
  ready: Promise<void>,
  why: () => string,
): Promise<void> {
  let onExit: (() => void) | undefined;
  const exited = new Promise<never>((_resolve, reject) => {
    onExit = (): void => {
      // Let the last output arrive before reading it.
      setTimeout(() => {
        const code = child.exitCode ?? child.signalCode ?? 'unknown';
        reject(new Unavailable(`exited with ${code} before it was ready: ${why()}`));
      }, 100);
    };
    child.once('exit', onExit);
  });
  try {
    await Promise.race([ready, exited]);
  } finally {
    if (onExit !== undefined) child.off('exit', onExit);
  }
}

export async function stop(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  child.kill('SIGTERM');
  const timer = setTimeout(() => child.kill('SIGKILL'), 5000);
  await exited;
  clearTimeout(timer);
}

/** A port that was free a moment ago. */
export async function freePort(): Promise<number> {
  const server = net.createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  const port = typeof address === 'object' && address !== null ? address.port : 0;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

/** Waits until something accepts TCP connections on 127.0.0.1:port. */
export async function waitForPort(port: number, timeoutMs: number): Promise<void> {
  const until = Date.now() + timeoutMs;
  while (Date.now() < until) {
    const connected = await new Promise<boolean>((resolve) => {
      const socket = net.connect(port, '127.0.0.1');
      socket.once('connect', () => {
        socket.destroy();
        resolve(true);
      });
      socket.once('error', () => resolve(false));
    });
    if (connected) return;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  throw new Error(`nothing listening on port ${port} after ${timeoutMs}ms`);
}

export async function waitForReady(url: string, timeoutMs: number): Promise<void> {
  const until = Date.now() + timeoutMs;
  while (Date.now() < until) {
    try {
      const response = await fetch(url);
      if (response.status === 200) return;
    } catch {
      // not up yet
    }
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  throw new Error(`${url} not ready after ${timeoutMs}ms`);
}
