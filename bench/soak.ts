/**
 * `npm run soak`: a long run of mixed load through a real Switchyard process
 * while its backends are SIGKILLed and restarted and its config is reloaded.
 *
 *   load      this process: UNARY_WORKERS loops of unary calls and
 *             STREAM_WORKERS loops of ~1 s server streams, over a few h2c
 *             connections to the proxy
 *   proxy     `node dist/src/cli/main.js --config <tmp>/soak.yaml` (child)
 *   backends  BACKENDS × `node dist/bench/soak-backend.js PORT` (children);
 *             every SOAK_KILL_EVERY seconds the next one is SIGKILLed and
 *             started again on the same port a second later
 *   reload    every SOAK_RELOAD_EVERY seconds the config file is rewritten
 *             with the other set of endpoint weights and `POST /reload`ed
 *
 * The route retries `unavailable` (docs/retries.md), so the calls that fail
 * should be those a kill caught in flight after they committed (streams
 * that had received messages). Every SAMPLE_EVERY seconds it samples the
 * proxy's RSS (/proc/PID/status) and event-loop lag (its /metrics), and at
 * the end prints calls made, failures by status and the samples.
 *
 * Exit status 1 when the proxy leaked, died, or served nothing: a leak is
 * RSS growth after warm-up beyond max(LEAK_MIN_BYTES, LEAK_RATIO × the
 * post-warm-up baseline) (see docs/faults.md for why this bound).
 *
 * Env: SOAK_SECONDS (default 600), SOAK_KILL_EVERY (10), SOAK_RELOAD_EVERY (30).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import http2 from 'node:http2';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { grpcFrame } from './grpc-frame.js';
import { freePort, stop, waitForReady } from './processes.js';
import { SOAK_SERVICE, STREAM_MESSAGES } from './soak-shape.js';

const SECONDS = envNumber('SOAK_SECONDS', 600);
const KILL_EVERY_S = envNumber('SOAK_KILL_EVERY', 10);
const RELOAD_EVERY_S = envNumber('SOAK_RELOAD_EVERY', 30);
const SAMPLE_EVERY_S = 5;
const BACKENDS = 3;
const CONNECTIONS = 4;
const UNARY_WORKERS = 8;
const STREAM_WORKERS = 8;
/** Pause between a unary worker's calls: keeps the load well under what 2 shared cores give. */
const UNARY_PAUSE_MS = 10;
/** A restarted backend comes back this long after its kill. */
const DOWN_MS = 1_000;
/** The first quarter of the run, at most 60 s, is warm-up (JIT, pools, V8 heap sizing). */
const WARMUP_S = Math.min(60, SECONDS / 4);
const LEAK_MIN_BYTES = 64 * 1024 * 1024;
const LEAK_RATIO = 0.5;
const WEIGHTS: readonly (readonly number[])[] = [
  [1, 1, 1],
  [3, 2, 1],
];
const EMPTY_REQUEST = grpcFrame(Buffer.alloc(0));

function envNumber(name: string, fallback: number): number {
  const value = process.env[name];
  if (value === undefined || value === '') return fallback;
  const n = Number(value);
  if (!Number.isFinite(n) || n <= 0) throw new Error(`${name} must be a positive number`);
  return n;
}

const delay = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

/** Waits `ms`; false when `signal` aborted first (the run is over). */
async function pause(ms: number, signal: AbortSignal): Promise<boolean> {
  try {
    await sleep(ms, undefined, { signal });
    return true;
  } catch {
    return false;
  }
}

interface Backend {
  readonly port: number;
  child: ChildProcess;
}

/** Spawns `command` and resolves with its "ready PORT" port. */
function spawnReady(command: readonly string[]): Promise<{ child: ChildProcess; port: number }> {
  const [file = process.execPath, ...args] = command;
  const child = spawn(file, args, { stdio: ['ignore', 'pipe', 'inherit'] });
  return new Promise((resolve, reject) => {
    let buffered = '';
    const onData = (chunk: Buffer): void => {
      buffered += chunk.toString('utf8');
      const match = /ready (\d+)/.exec(buffered);
      if (match === null) return;
      child.stdout.off('data', onData);
      child.stdout.resume();
      resolve({ child, port: Number(match[1]) });
    };
    child.stdout.on('data', onData);
    child.once('exit', (code, signal) =>
      reject(new Error(`${command.join(' ')} exited (${String(code ?? signal)}) before ready`)),
    );
  });
}

function configText(
  listenPort: number,
  adminPort: number,
  ports: readonly number[],
  variant: number,
): string {
  const weights = WEIGHTS[variant % WEIGHTS.length] ?? [];
  return [
    `# soak config, variant ${variant % WEIGHTS.length}`,
    `admin: { address: 127.0.0.1:${adminPort} }`,
    'listeners:',
    `  - { name: soak, address: 127.0.0.1:${listenPort} }`,
    'routes:',
    '  - name: soak',
    `    match: { service: ${SOAK_SERVICE} }`,
    '    cluster: soak',
    '    retry: { retry_on: [unavailable], max_attempts: 3 }',
    'clusters:',
    '  - name: soak',
    '    endpoints:',
    ...ports.map((port, i) => `      - { address: 127.0.0.1:${port}, weight: ${weights[i] ?? 1} }`),
    '',
  ].join('\n');
}

interface Tally {
  ok: number;
  failed: Map<string, number>;
  /** A few grpc-messages per failure key (ports and numbers blanked). */
  messages: Map<string, Set<string>>;
  unaryOk: number;
  streamOk: number;
  unaryFailed: number;
  streamFailed: number;
}

interface CallResult {
  /** "0", a grpc-status, or how the call broke without one. */
  readonly status: string;
  readonly message: string | undefined;
  /** Response DATA bytes received (a failure after some was committed: never retried). */
  readonly bytes: number;
}

/** One call; resolves with its grpc-status (or a transport failure) and grpc-message. */
function call(session: http2.ClientHttp2Session, stream: boolean): Promise<CallResult> {
  return new Promise((resolve) => {
    let req: http2.ClientHttp2Stream;
    try {
      req = session.request({
        ':method': 'POST',
        ':path': `/${SOAK_SERVICE}/${stream ? 'Stream' : 'Unary'}`,
        'content-type': 'application/grpc',
        te: 'trailers',
      });
    } catch (error) {
      resolve({
        status: `client:${(error as { code?: string }).code ?? 'error'}`,
        message: undefined,
        bytes: 0,
      });
      return;
    }
    let status: string | undefined;
    let message: string | undefined;
    let bytes = 0;
    let transport: string | undefined;
    req.on('response', (headers: http2.IncomingHttpHeaders, flags: number) => {
      if (flags & http2.constants.NGHTTP2_FLAG_END_STREAM) {
        status = String(headers['grpc-status']);
        message = headers['grpc-message'] as string | undefined;
      }
    });
    req.on('trailers', (trailers: http2.IncomingHttpHeaders) => {
      status = String(trailers['grpc-status']);
      message = trailers['grpc-message'] as string | undefined;
    });
    req.on('data', (chunk: Buffer) => (bytes += chunk.length));
    req.on('error', (error: Error & { code?: string }) => (transport = error.code ?? 'error'));
    req.on('close', () => {
      if (status === '0' && stream && bytes !== STREAM_MESSAGES * (5 + 1024)) {
        resolve({ status: `short-stream:${bytes}`, message, bytes });
      } else if (status !== undefined) resolve({ status, message, bytes });
      else resolve({ status: `transport:${transport ?? `rst ${req.rstCode}`}`, message, bytes });
    });
    req.end(EMPTY_REQUEST);
  });
}

function connect(port: number): http2.ClientHttp2Session {
  const session = http2.connect(`http://127.0.0.1:${port}`);
  session.on('error', () => undefined);
  return session;
}

interface Sample {
  readonly t: number;
  readonly rssBytes: number;
  readonly lagSeconds: number | undefined;
  readonly calls: number;
}

function rssBytes(pid: number): number {
  const match = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  return Number(match?.[1] ?? '0') * 1024;
}

async function eventLoopLag(adminPort: number): Promise<number | undefined> {
  try {
    const text = await (await fetch(`http://127.0.0.1:${adminPort}/metrics`)).text();
    const match = /^switchyard_nodejs_eventloop_lag_seconds (\S+)$/m.exec(text);
    return match === null ? undefined : Number(match[1]);
  } catch {
    return undefined;
  }
}

/** A grpc-message with its numbers blanked, so like messages group. */
function shape(message: string): string {
  return decodeURIComponent(message).replace(/\d+/g, 'N');
}

/** The proxy's retry and overflow counters, as exposition lines. */
async function retryCounters(adminPort: number): Promise<string[]> {
  try {
    const text = await (await fetch(`http://127.0.0.1:${adminPort}/metrics`)).text();
    return text
      .split('\n')
      .filter((line) =>
        /^switchyard_(upstream_retries_total|upstream_attempts_retried_total|cluster_overflows_total)\{/.test(
          line,
        ),
      )
      .map((line) => `  ${line}`);
  } catch (error) {
    return [`  (metrics unavailable: ${String(error)})`];
  }
}

const mib = (bytes: number): string => (bytes / 1024 / 1024).toFixed(1);

function median(values: readonly number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)] ?? 0;
}

async function main(): Promise<void> {
  const node = process.execPath;
  const dist = new URL('..', import.meta.url).pathname;
  const backendScript = join(dist, 'bench/soak-backend.js');
  const backends: Backend[] = [];
  for (let i = 0; i < BACKENDS; i++) {
    const started = await spawnReady([node, backendScript, '0']);
    backends.push({ port: started.port, child: started.child });
  }
  const [listenPort, adminPort] = [await freePort(), await freePort()];
  const ports = backends.map((b) => b.port);
  const dir = mkdtempSync(join(tmpdir(), 'switchyard-soak-'));
  const configPath = join(dir, 'soak.yaml');
  let variant = 0;
  writeFileSync(configPath, configText(listenPort, adminPort, ports, variant));
  const proxy = spawn(
    node,
    [join(dist, 'src/cli/main.js'), '--config', configPath, '--log-level', 'warn'],
    { stdio: ['ignore', 'ignore', 'inherit'] },
  );
  let proxyExit: string | undefined;
  proxy.once('exit', (code, signal) => (proxyExit = String(code ?? signal)));
  const stopAll = async (): Promise<void> => {
    await stop(proxy);
    await Promise.all(backends.map((b) => stop(b.child)));
  };
  try {
    await waitForReady(`http://127.0.0.1:${adminPort}/readyz`, 10_000);
    const pid = proxy.pid;
    if (pid === undefined) throw new Error('switchyard did not start');
    process.stdout.write(
      `soak: ${SECONDS}s, proxy pid ${pid} on :${listenPort}, backends ${ports.join(', ')}; ` +
        `kill every ${KILL_EVERY_S}s, reload every ${RELOAD_EVERY_S}s, warm-up ${WARMUP_S}s\n`,
    );

    const tally: Tally = {
      ok: 0,
      failed: new Map(),
      messages: new Map(),
      unaryOk: 0,
      streamOk: 0,
      unaryFailed: 0,
      streamFailed: 0,
    };
    const sessions = Array.from({ length: CONNECTIONS }, () => connect(listenPort));
    const started = performance.now();
    const endAt = started + SECONDS * 1000;
    const elapsed = (): number => (performance.now() - started) / 1000;
    const state = { running: true };
    const stopping = new AbortController();

    const worker = async (index: number, stream: boolean): Promise<void> => {
      while (state.running && performance.now() < endAt) {
        let session = sessions[index % CONNECTIONS];
        if (session === undefined || session.closed || session.destroyed) {
          session = connect(listenPort);
          sessions[index % CONNECTIONS] = session;
        }
        const result = await call(session, stream);
        if (result.status === '0') {
          tally.ok++;
          if (stream) tally.streamOk++;
          else tally.unaryOk++;
        } else {
          const after = result.bytes > 0 ? ' after data' : ' before data';
          const key = `${stream ? 'stream' : 'unary'} ${result.status}${after}`;
          tally.failed.set(key, (tally.failed.get(key) ?? 0) + 1);
          const messages = tally.messages.get(key) ?? new Set<string>();
          if (messages.size < 3) messages.add(shape(result.message ?? ''));
          tally.messages.set(key, messages);
          if (stream) tally.streamFailed++;
          else tally.unaryFailed++;
        }
        if (!stream) await delay(UNARY_PAUSE_MS);
      }
    };

    let kills = 0;
    const killer = async (): Promise<void> => {
      let next = 0;
      while (state.running) {
        if (!(await pause(KILL_EVERY_S * 1000, stopping.signal))) return;
        if (performance.now() > endAt - DOWN_MS) return;
        const victim = backends[next % BACKENDS];
        next++;
        if (victim === undefined) continue;
        victim.child.kill('SIGKILL');
        kills++;
        await delay(DOWN_MS);
        const restarted = await spawnReady([node, backendScript, String(victim.port)]);
        victim.child = restarted.child;
      }
    };

    const reloads = { applied: 0, failed: 0 };
    const reloader = async (): Promise<void> => {
      while (state.running) {
        if (!(await pause(RELOAD_EVERY_S * 1000, stopping.signal))) return;
        if (performance.now() > endAt) return;
        variant++;
        writeFileSync(configPath, configText(listenPort, adminPort, ports, variant));
        try {
          const response = await fetch(`http://127.0.0.1:${adminPort}/reload`, { method: 'POST' });
          const body = await response.text();
          if (response.status === 200 && body.startsWith('reloaded')) reloads.applied++;
          else {
            reloads.failed++;
            process.stdout.write(`reload: ${response.status} ${body}\n`);
          }
        } catch (error) {
          reloads.failed++;
          process.stdout.write(`reload failed: ${String(error)}\n`);
        }
      }
    };

    const samples: Sample[] = [];
    const sampler = async (): Promise<void> => {
      while (state.running && performance.now() < endAt) {
        await delay(SAMPLE_EVERY_S * 1000);
        if (proxyExit !== undefined) return;
        const sample: Sample = {
          t: elapsed(),
          rssBytes: rssBytes(pid),
          lagSeconds: await eventLoopLag(adminPort),
          calls: tally.ok + tally.unaryFailed + tally.streamFailed,
        };
        samples.push(sample);
        process.stdout.write(
          `t=${sample.t.toFixed(0).padStart(4)}s  rss ${mib(sample.rssBytes).padStart(6)} MiB  ` +
            `lag ${sample.lagSeconds === undefined ? '-' : (sample.lagSeconds * 1000).toFixed(1)} ms  ` +
            `calls ${sample.calls}  failed ${tally.unaryFailed + tally.streamFailed}\n`,
        );
      }
    };

    const background = [killer(), reloader()];
    let loadSeconds = 0;
    await Promise.all([
      sampler(),
      ...Array.from({ length: UNARY_WORKERS }, (_, i) => worker(i, false)),
      ...Array.from({ length: STREAM_WORKERS }, (_, i) => worker(i, true)),
    ]);
    loadSeconds = elapsed();
    state.running = false;
    stopping.abort();
    await Promise.all(background);
    for (const session of sessions) session.close();

    // ── report ──
    const made = tally.ok + tally.unaryFailed + tally.streamFailed;
    const lines = [
      '',
      `calls made ${made} in ${loadSeconds.toFixed(0)}s (${(made / loadSeconds).toFixed(0)}/s): ` +
        `ok ${tally.ok} (unary ${tally.unaryOk}, stream ${tally.streamOk}), ` +
        `failed ${tally.unaryFailed + tally.streamFailed} (unary ${tally.unaryFailed}, stream ${tally.streamFailed})`,
      `backend kills ${kills}, reloads applied ${reloads.applied}, reloads failed ${reloads.failed}`,
      'failures by kind and status:',
      ...[...tally.failed.entries()]
        .sort((a, b) => b[1] - a[1])
        .map(
          ([key, n]) =>
            `  ${key.padEnd(28)} ${String(n).padStart(6)}  ${[...(tally.messages.get(key) ?? [])].join(' | ')}`,
        ),
    ];
    lines.push('proxy retry counters (/metrics):', ...(await retryCounters(adminPort)));
    const warm = samples.filter((s) => s.t >= WARMUP_S);
    const baselineSamples = warm.slice(0, 3);
    const endSamples = warm.slice(-3);
    const lags = samples.flatMap((s) => (s.lagSeconds === undefined ? [] : [s.lagSeconds]));
    let leak = false;
    if (baselineSamples.length > 0 && endSamples.length > 0) {
      const baseline = median(baselineSamples.map((s) => s.rssBytes));
      const end = median(endSamples.map((s) => s.rssBytes));
      const bound = Math.max(LEAK_MIN_BYTES, LEAK_RATIO * baseline);
      const peak = Math.max(...samples.map((s) => s.rssBytes));
      leak = end - baseline > bound;
      lines.push(
        `RSS: post-warm-up baseline ${mib(baseline)} MiB, end ${mib(end)} MiB, ` +
          `growth ${mib(end - baseline)} MiB (bound ${mib(bound)} MiB), peak ${mib(peak)} MiB`,
      );
    } else {
      lines.push('RSS: run too short for a post-warm-up baseline; no leak verdict');
    }
    if (lags.length > 0) {
      lines.push(
        `event-loop lag: median ${(median(lags) * 1000).toFixed(1)} ms, max ${(Math.max(...lags) * 1000).toFixed(1)} ms`,
      );
    }
    const verdicts: string[] = [];
    if (proxyExit !== undefined) verdicts.push(`the proxy exited (${proxyExit})`);
    if (tally.ok === 0) verdicts.push('no call succeeded');
    if (leak) verdicts.push('RSS grew beyond the bound after warm-up (leak)');
    lines.push(verdicts.length === 0 ? 'soak: PASS' : `soak: FAIL: ${verdicts.join('; ')}`);
    process.stdout.write(`${lines.join('\n')}\n`);
    if (verdicts.length > 0) process.exitCode = 1;
  } finally {
    await stopAll();
  }
}

main().catch((error: unknown) => {
  process.stderr.write(`soak failed: ${error instanceof Error ? error.message : String(error)}\n`);
  process.exit(1);
});
