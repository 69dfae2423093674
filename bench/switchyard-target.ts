/**
 * Switchyard as a bench target: its config (every feature a production user
 * turns on, or a minimal one), starting it pinned to the proxy CPU, and the
 * engine probe that tells a run of `engine: switchyard` from a silent
 * fallback to node:http2.
 */
import { spawn } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { h2load } from './h2load.js';
import {
  freePort,
  readyOrExit,
  startQuiet,
  stop,
  TailLines,
  Unavailable,
  waitForReady,
} from './processes.js';
import { UNARY_REPLY_LENGTH } from './reply-size.js';
import type { RunningTarget } from './targets.js';

export type Engine = 'nodejs' | 'switchyard';
export type Variant = 'full' | 'minimal';

export const SWITCHYARD_VARIANTS: Record<Variant, string> = {
  full:
    'every feature on: round_robin over 2 backends, route timeout 30s, retry on unavailable, ' +
    'circuit-breaker limits, outlier detection, gRPC health checks every 1s, access log on ' +
    '(stdout to /dev/null), /metrics scraped mid-run',
  minimal: 'minimal: 1 backend, no timeout/retry/health checks/outlier detection, access log off',
};

interface SwitchyardSetup {
  readonly engine: Engine;
  readonly variant: Variant;
  /** Backend ports; `minimal` uses the first only. */
  readonly backends: readonly number[];
  readonly dir: string;
  /** `taskset -c` list: one CPU, or several for workers > 1. */
  readonly cpu: number | string;
  /** `--workers N`: 1 is one process (no node:cluster). */
  readonly workers: number;
  /** Extra node flags for the proxy (BENCH_PROXY_NODE_FLAGS), e.g. --cpu-prof. */
  readonly nodeFlags: readonly string[];
  /** Another build's dist/ to run (the baseline target); default this build's. */
  readonly dist?: string | undefined;
}

function writeConfig(
  setup: SwitchyardSetup,
  listenPort: number,
  adminPort: number,
  name: string,
): string {
  const [first] = setup.backends;
  if (first === undefined) throw new Error('no backend');
  const full = setup.variant === 'full';
  const endpoints = (full ? setup.backends : [first]).map((port) => `127.0.0.1:${port}`);
  const lines = [
    `engine: ${setup.engine}`,
    `admin: { address: 127.0.0.1:${adminPort} }`,
    'listeners:',
    `  - { name: bench, address: 127.0.0.1:${listenPort} }`,
    'routes:',
    '  - name: bench',
    '    match: { service: bench.Bench }',
    '    cluster: bench',
    ...(full
      ? ['    timeout: 30s', '    retry: { retry_on: [unavailable], max_attempts: 3 }']
      : []),
    'clusters:',
    '  - name: bench',
    `    endpoints: [${endpoints.join(', ')}]`,
    ...(full
      ? [
          '    lb_policy: round_robin',
          '    circuit_breaker: { max_requests: 1024, max_pending: 1024, max_connections: 64, max_retries: 64 }',
          '    outlier_detection: { consecutive_failures: 5, base_ejection_time: 30s, max_ejection_percent: 50 }',
          '    health_check: { grpc: {}, interval: 1s, timeout: 1s, unhealthy_threshold: 3, healthy_threshold: 1 }',
        ]
      : []),
    '',
  ];
  const path = join(setup.dir, `${name}.yaml`);
  writeFileSync(path, lines.join('\n'));
  return path;
}

function command(
  setup: SwitchyardSetup,
  configPath: string,
  nodeFlags: readonly string[],
): string[] {
  const dist = setup.dist ?? new URL('..', import.meta.url).pathname;
  return [
    process.execPath,
    ...nodeFlags,
    join(dist, 'src/cli/main.js'),
    '--config',
    configPath,
    // info: the access log (one line per call) is on; warn: off.
    '--log-level',
    setup.variant === 'full' ? 'info' : 'warn',
    '--workers',
    String(setup.workers),
  ];
}

/** Starts Switchyard for the measured runs (stdout, the access log, to /dev/null). */
export async function startSwitchyard(
  setup: SwitchyardSetup,
  name: string,
): Promise<RunningTarget> {
  const [listenPort, adminPort] = [await freePort(), await freePort()];
  const configPath = writeConfig(setup, listenPort, adminPort, name);
  const child = startQuiet(setup.cpu, command(setup, configPath, setup.nodeFlags));
  const stderr = new TailLines(child.stderr);
  child.stderr?.pipe(process.stderr);
  try {
    await readyOrExit(child, waitForReady(`http://127.0.0.1:${adminPort}/readyz`, 15_000), () =>
      stderr.text(),
    );
  } catch (error) {
    await stop(child);
    throw error;
  }
  if (child.pid === undefined) throw new Unavailable('did not start');
  return {
    port: listenPort,
    pid: child.pid,
    metricsUrl: setup.variant === 'full' ? `http://127.0.0.1:${adminPort}/metrics` : undefined,
    workerMetricsUrl: setup.workers > 1 ? `http://127.0.0.1:${adminPort}/metrics` : undefined,
    stop: () => stop(child),
  };
}

export interface EngineProbe {
  /** node:http2 served the listener's connections (NODE_DEBUG=http2 printed server sessions). */
  readonly nodeHttp2Server: boolean;
}

/**
 * Starts Switchyard once with `engine` and the full config, with
 * NODE_DEBUG=http2 and its output kept, makes a few calls through it and
 * stops it. Throws Unavailable (with the proxy's own words) if it does not
 * start or the calls fail; otherwise says whether node:http2 carried the
 * client connections, which the switchyard engine must not.
 */
export async function probeEngine(setup: SwitchyardSetup): Promise<EngineProbe> {
  const [listenPort, adminPort] = [await freePort(), await freePort()];
  const configPath = writeConfig(setup, listenPort, adminPort, `probe-${setup.engine}`);
  const child = spawn('taskset', ['-c', String(setup.cpu), ...command(setup, configPath, [])], {
    stdio: ['ignore', 'pipe', 'pipe'],
    env: { ...process.env, NODE_DEBUG: 'http2' },
  });
  let nodeHttp2Server = false;
  child.stderr.on('data', (chunk: Buffer) => {
    if (chunk.toString('latin1').includes('Http2Session server')) nodeHttp2Server = true;
  });
  const notHttp2Debug = (line: string): boolean => !/^HTTP2 \d+:/.test(line);
  const stderr = new TailLines(child.stderr, 5, notHttp2Debug);
  const stdout = new TailLines(child.stdout, 5, (line) => !line.includes('"module":"access"'));
  const why = (): string => [stdout.text(), stderr.text()].filter(Boolean).join(' | ');
  try {
    await readyOrExit(
      child,
      waitForReady(`http://127.0.0.1:${adminPort}/readyz`, 15_000),
      why,
    ).catch((error: unknown) => {
      throw error instanceof Unavailable ? error : new Unavailable(`${String(error)}: ${why()}`);
    });
    const calls = await h2load({
      cpu: setup.cpu,
      port: listenPort,
      clients: 2,
      streamsPerClient: 5,
      amount: { requests: 200 },
    });
    if (calls.failed > 0 || calls.dataBytes !== calls.succeeded * UNARY_REPLY_LENGTH) {
      throw new Unavailable(
        `calls through it fail (${calls.failed} failed, ${calls.dataBytes} data bytes ` +
          `for ${calls.succeeded} calls): ${why()}`,
      );
    }
  } finally {
    await stop(child);
  }
  return { nodeHttp2Server };
}
