/**
 * `npm run demo`: Switchyard end to end on this machine.
 *
 * Starts three Greeter backends, runs the built proxy (dist/src/cli/main.js)
 * as a child process with config.example.yaml, waits for its admin /readyz,
 * makes 9 SayHello calls over ONE client connection to the proxy and shows
 * which backend answered each, so per-call (not per-connection) balancing is
 * visible. Then it stops the proxy with SIGTERM, expects exit code 0, stops
 * the backends and exits 0. Any failure prints a clear message (with the
 * proxy's last output lines) and exits 1; the whole run is bounded to 30 s.
 *
 * Ports default to the example config's (proxy 8080, admin 9901, backends
 * 50051-50053). To run elsewhere, e.g. in tests:
 *
 *   node dist/demo/run-demo.js --proxy-port 18080 --admin-port 19901 \
 *     --backend-ports 15051,15052,15053
 *
 * which writes a temporary copy of config.example.yaml with those ports.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { isAbsolute, join, relative } from 'node:path';
import { inspect, parseArgs } from 'node:util';
import { setTimeout as sleep } from 'node:timers/promises';
import * as grpc from '@grpc/grpc-js';
import { parse, parseDocument } from 'yaml';
import {
  loadGreeterProto,
  packageRoot,
  sayHello,
  startGreeterBackends,
  type GreeterBackends,
} from './greeter-backends.js';

const OVERALL_TIMEOUT_MS = 30_000;
const READY_TIMEOUT_MS = 10_000;
const READY_POLL_MS = 50;
const STOP_TIMEOUT_MS = 5_000;
const CALLS = 9;
const CLUSTER = 'greeter';

const USAGE = `usage: node dist/demo/run-demo.js [--proxy-port N] [--admin-port N] [--backend-ports A,B,C]

Runs Switchyard with config.example.yaml in front of three Greeter backends and
shows how 9 calls on one client connection are spread over them. The options
override the example's ports (8080, 9901, 50051-50053) through a temporary copy
of the config.`;

/** A failure the demo explains itself: printed without a stack trace. */
class DemoError extends Error {}

/** `path` relative to the working directory if it lies below it, else absolute. */
function displayPath(path: string): string {
  const rel = relative(process.cwd(), path);
  return rel === '' || rel.startsWith('..') || isAbsolute(rel) ? path : rel;
}

interface HostPort {
  host: string;
  port: number;
}

function parseHostPort(address: string, what: string): HostPort {
  const match = /^(?:\[([^\]]+)\]|([^:]+)):(\d+)$/.exec(address);
  const host = match?.[1] ?? match?.[2];
  const port = Number(match?.[3]);
  if (host === undefined || !Number.isInteger(port) || port > 65535) {
    throw new DemoError(`${what}: ${JSON.stringify(address)} is not host:port`);
  }
  return { host, port };
}

function formatHostPort({ host, port }: HostPort): string {
  return `${host.includes(':') ? `[${host}]` : host}:${port}`;
}

/** Where to connect to reach something listening on `host`. */
function connectHost(host: string): string {
  if (host === '0.0.0.0') return '127.0.0.1';
  if (host === '::') return '::1';
  return host;
}

function parsePort(value: string, what: string): number {
  const port = Number(value);
  if (!/^\d+$/.test(value) || port < 1 || port > 65535) {
    throw new DemoError(`${what}: ${JSON.stringify(value)} is not a port number (1-65535)`);
  }
  return port;
}

interface Options {
  proxyPort: number | undefined;
  adminPort: number | undefined;
  backendPorts: number[] | undefined;
}

function parseOptions(argv: string[]): Options | 'help' {
  let values;
  try {
    ({ values } = parseArgs({
      args: argv,
      options: {
        'proxy-port': { type: 'string' },
        'admin-port': { type: 'string' },
        'backend-ports': { type: 'string' },
        help: { type: 'boolean', short: 'h' },
      },
      strict: true,
      allowPositionals: false,
    }));
  } catch (error) {
    throw new DemoError(`${error instanceof Error ? error.message : String(error)}\n${USAGE}`, {
      cause: error,
    });
  }
  if (values.help === true) return 'help';
  const proxy = values['proxy-port'];
  const admin = values['admin-port'];
  const backends = values['backend-ports'];
  return {
    proxyPort: proxy === undefined ? undefined : parsePort(proxy, '--proxy-port'),
    adminPort: admin === undefined ? undefined : parsePort(admin, '--admin-port'),
    backendPorts:
      backends === undefined
        ? undefined
        : backends.split(',').map((p) => parsePort(p.trim(), '--backend-ports')),
  };
}

/** The parts of the example config the demo needs, and the file to run with. */
interface DemoConfig {
  /** The config file the proxy is started with. */
  path: string;
  /** A temporary directory to remove at the end, if one was written. */
  tempDir: string | undefined;
  listener: HostPort;
  admin: HostPort;
  /** The greeter cluster's endpoints, in order: backend-1, backend-2, ... */
  endpoints: HostPort[];
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function field(record: unknown, key: string, what: string): unknown {
  if (!isRecord(record) || !(key in record)) throw new DemoError(`${what}: missing ${key}`);
  return record[key];
}

function stringField(record: unknown, key: string, what: string): string {
  const value = field(record, key, what);
  if (typeof value !== 'string') throw new DemoError(`${what}: ${key} is not a string`);
  return value;
}

function loadDemoConfig(root: string, options: Options): DemoConfig {
  const examplePath = join(root, 'config.example.yaml');
  const text = readFileSync(examplePath, 'utf8');
  const what = displayPath(examplePath);
  const config: unknown = parse(text);

  const listeners = field(config, 'listeners', what);
  if (!Array.isArray(listeners) || listeners.length === 0) {
    throw new DemoError(`${what}: no listeners`);
  }
  const listenerAddress = stringField(listeners[0], 'address', `${what} listeners[0]`);
  const adminAddress = stringField(field(config, 'admin', what), 'address', `${what} admin`);

  const clusters = field(config, 'clusters', what);
  const clusterIndex = Array.isArray(clusters)
    ? clusters.findIndex((c) => isRecord(c) && c['name'] === CLUSTER)
    : -1;
  const cluster: unknown = Array.isArray(clusters) ? clusters[clusterIndex] : undefined;
  if (cluster === undefined) throw new DemoError(`${what}: no cluster named ${CLUSTER}`);
  const endpointList = field(cluster, 'endpoints', `${what} cluster ${CLUSTER}`);
  if (!Array.isArray(endpointList) || endpointList.length === 0) {
    throw new DemoError(`${what}: cluster ${CLUSTER} has no endpoints`);
  }
  const endpointAddresses = endpointList.map((e: unknown, i) =>
    typeof e === 'string' ? e : stringField(e, 'address', `${what} ${CLUSTER} endpoint ${i + 1}`),
  );

  const listener = parseHostPort(listenerAddress, `${what} listeners[0].address`);
  const admin = parseHostPort(adminAddress, `${what} admin.address`);
  let endpoints = endpointAddresses.map((a, i) =>
    parseHostPort(a, `${what} ${CLUSTER} endpoint ${i + 1}`),
  );

  const { proxyPort, adminPort, backendPorts } = options;
  if (proxyPort === undefined && adminPort === undefined && backendPorts === undefined) {
    return { path: examplePath, tempDir: undefined, listener, admin, endpoints };
  }

  // Overrides: the same document (comments kept) with the ports replaced.
  const doc = parseDocument(text);
  if (proxyPort !== undefined) {
    listener.port = proxyPort;
    doc.setIn(['listeners', 0, 'address'], formatHostPort(listener));
  }
  if (adminPort !== undefined) {
    admin.port = adminPort;
    doc.setIn(['admin', 'address'], formatHostPort(admin));
  }
  if (backendPorts !== undefined) {
    const host = endpoints[0]?.host ?? '127.0.0.1';
    endpoints = backendPorts.map((port) => ({ host, port }));
    if (backendPorts.length === endpointList.length) {
      // Keep each endpoint's form (shorthand or {address, weight}).
      endpointList.forEach((e: unknown, i) => {
        const address = formatHostPort(endpoints[i] ?? { host, port: 0 });
        const path = ['clusters', clusterIndex, 'endpoints', i];
        doc.setIn(typeof e === 'string' ? path : [...path, 'address'], address);
      });
    } else {
      doc.setIn(
        ['clusters', clusterIndex, 'endpoints'],
        endpoints.map((e) => formatHostPort(e)),
      );
    }
  }
  const tempDir = mkdtempSync(join(tmpdir(), 'switchyard-demo-'));
  const path = join(tempDir, 'config.yaml');
  writeFileSync(path, doc.toString());
  return { path, tempDir, listener, admin, endpoints };
}

/** Fails early, with a clear message, if something already listens there. */
async function assertPortFree({ host, port }: HostPort, what: string): Promise<void> {
  await new Promise<void>((resolvePromise, reject) => {
    const server = createServer();
    server.once('error', (error: NodeJS.ErrnoException) => {
      reject(
        new DemoError(
          error.code === 'EADDRINUSE'
            ? `port ${port} is busy: the ${what} cannot listen on ${formatHostPort({ host, port })}; stop what uses it or pick other ports (--help)`
            : `cannot listen on ${formatHostPort({ host, port })} for the ${what}: ${error.message}`,
        ),
      );
    });
    server.listen({ host, port, exclusive: true }, () => {
      server.close(() => resolvePromise());
    });
  });
}

/** The last lines a stream printed, for error reports. */
class Tail {
  private text = '';
  constructor(private readonly maxChars = 8192) {}
  push(chunk: Buffer | string): void {
    this.text = (this.text + chunk.toString()).slice(-this.maxChars);
  }
  lines(max = 25): string[] {
    const lines = this.text.split('\n');
    if (lines.at(-1) === '') lines.pop();
    return lines.slice(-max);
  }
}

interface ExitStatus {
  code: number | null;
  signal: NodeJS.Signals | null;
}

function describeExit({ code, signal }: ExitStatus): string {
  return signal === null ? `exit code ${code ?? '?'}` : `signal ${signal}`;
}

interface Proxy {
  child: ChildProcess;
  stdout: Tail;
  stderr: Tail;
  /** Set once the process has exited. */
  exit: ExitStatus | undefined;
  exited: Promise<ExitStatus>;
}

function startProxy(root: string, configPath: string): Proxy {
  const main = join(root, 'dist', 'src', 'cli', 'main.js');
  if (!existsSync(main)) {
    throw new DemoError(`${main} does not exist: build first with \`npm run build\``);
  }
  const child = spawn(process.execPath, [main, '--config', configPath, '--log-level', 'warn'], {
    cwd: root,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const proxy: Proxy = {
    child,
    stdout: new Tail(),
    stderr: new Tail(),
    exit: undefined,
    exited: new Promise((resolvePromise) => {
      child.once('error', (error) => {
        proxy.stderr.push(`spawn failed: ${error.message}\n`);
        proxy.exit = { code: null, signal: null };
        resolvePromise(proxy.exit);
      });
      child.once('exit', (code, signal) => {
        proxy.exit = { code, signal };
        resolvePromise(proxy.exit);
      });
    }),
  };
  // Last resort: however this process ends, the proxy must not outlive it.
  process.once('exit', () => {
    if (proxy.exit === undefined) child.kill('SIGKILL');
  });
  child.stdout.on('data', (chunk: Buffer) => proxy.stdout.push(chunk));
  child.stderr.on('data', (chunk: Buffer) => proxy.stderr.push(chunk));
  return proxy;
}

function printProxyOutput(proxy: Proxy): void {
  for (const [name, tail] of [
    ['stdout', proxy.stdout],
    ['stderr', proxy.stderr],
  ] as const) {
    const lines = tail.lines();
    console.error(
      lines.length === 0
        ? `--- proxy ${name}: (nothing)`
        : `--- proxy ${name} (last ${lines.length} lines):\n${lines.join('\n')}`,
    );
  }
}

async function waitForReady(proxy: Proxy, admin: HostPort): Promise<number> {
  const url = `http://${formatHostPort({ ...admin, host: connectHost(admin.host) })}/readyz`;
  const started = Date.now();
  let last = 'no answer';
  while (Date.now() - started < READY_TIMEOUT_MS) {
    if (proxy.exit !== undefined) {
      throw new DemoError(
        `the proxy exited early (${describeExit(proxy.exit)}) before ${url} answered 200`,
      );
    }
    try {
      const response = await fetch(url, { signal: AbortSignal.timeout(1000) });
      await response.body?.cancel();
      if (response.status === 200) return Date.now() - started;
      last = `HTTP ${response.status}`;
    } catch (error) {
      last = error instanceof Error ? error.message : String(error);
    }
    await Promise.race([sleep(READY_POLL_MS), proxy.exited]);
  }
  throw new DemoError(
    `the proxy was not ready within ${READY_TIMEOUT_MS / 1000} s: ${url} last gave ${last}`,
  );
}

async function stopProxy(proxy: Proxy, timeoutMs: number): Promise<ExitStatus | undefined> {
  if (proxy.exit !== undefined) return proxy.exit;
  proxy.child.kill('SIGTERM');
  const status = await Promise.race([proxy.exited, sleep(timeoutMs).then(() => undefined)]);
  if (status === undefined) {
    proxy.child.kill('SIGKILL');
    await Promise.race([proxy.exited, sleep(1000)]);
  }
  return status;
}

/** Everything to undo, whether the demo succeeds or fails. */
interface Resources {
  backends: GreeterBackends | undefined;
  proxy: Proxy | undefined;
  client: grpc.Client | undefined;
  tempDir: string | undefined;
}

async function cleanUp(resources: Resources): Promise<void> {
  resources.client?.close();
  resources.client = undefined;
  const { proxy, backends, tempDir } = resources;
  resources.proxy = undefined;
  resources.backends = undefined;
  resources.tempDir = undefined;
  await Promise.all([
    proxy === undefined ? undefined : stopProxy(proxy, 2000),
    backends?.close(500),
  ]);
  if (tempDir !== undefined) rmSync(tempDir, { recursive: true, force: true });
}

async function runDemo(argv: string[], resources: Resources): Promise<void> {
  const options = parseOptions(argv);
  if (options === 'help') {
    console.log(USAGE);
    return;
  }
  const root = packageRoot();
  const config = loadDemoConfig(root, options);
  resources.tempDir = config.tempDir;
  if (config.endpoints.length === 0) throw new DemoError('no backend ports');

  console.log(`switchyard demo (config: ${displayPath(config.path)})`);

  // Backends first; fail clearly on a busy port before starting the proxy.
  const { endpoints } = config;
  const host = endpoints[0]?.host ?? '127.0.0.1';
  if (endpoints.some((e) => e.host !== host)) {
    throw new DemoError(
      `the demo's backends must share one host; got ${endpoints.map(formatHostPort).join(', ')}`,
    );
  }
  resources.backends = await startGreeterBackends(
    endpoints.map((e) => e.port),
    host,
  ).catch((error: unknown) => {
    throw new DemoError(error instanceof Error ? error.message : String(error), { cause: error });
  });
  for (const backend of resources.backends.backends) {
    console.log(`${backend.name} listening on ${backend.address}`);
  }
  await assertPortFree(config.listener, 'proxy listener');
  await assertPortFree(config.admin, 'proxy admin endpoint');

  const proxy = startProxy(root, config.path);
  resources.proxy = proxy;
  const readyAfter = await waitForReady(proxy, config.admin);
  const target = formatHostPort({ ...config.listener, host: connectHost(config.listener.host) });
  console.log(
    `proxy (pid ${proxy.child.pid ?? '?'}) ready after ${readyAfter} ms: gRPC on ${formatHostPort(config.listener)}, admin on ${formatHostPort(config.admin)}`,
  );

  // One client, one channel, one HTTP/2 connection to the proxy.
  const { Client } = loadGreeterProto();
  const client = new Client(target, grpc.credentials.createInsecure());
  resources.client = client;
  const perBackend = new Map<string, number>();
  for (const backend of resources.backends.backends) {
    perBackend.set(`${backend.name} (${backend.address})`, 0);
  }
  for (let call = 1; call <= CALLS; call++) {
    let message: string;
    try {
      ({ message } = await sayHello(client, { name: 'world' }));
    } catch (error) {
      const detail = error instanceof Error ? error.message : String(error);
      throw new DemoError(`call ${call} through the proxy at ${target} failed: ${detail}`, {
        cause: error,
      });
    }
    const servedBy = /from (backend-\d+ \([^)]*\))/.exec(message)?.[1];
    if (servedBy === undefined) {
      throw new DemoError(`call ${call}: unexpected reply ${JSON.stringify(message)}`);
    }
    perBackend.set(servedBy, (perBackend.get(servedBy) ?? 0) + 1);
    console.log(`call ${call} -> ${servedBy}`);
  }

  console.log(`\nsummary: ${CALLS} calls on one client connection to ${target}`);
  for (const [backend, count] of perBackend) {
    console.log(`  ${backend}: ${count} call${count === 1 ? '' : 's'}`);
  }

  client.close();
  resources.client = undefined;
  const status = await stopProxy(proxy, STOP_TIMEOUT_MS);
  if (status === undefined) {
    throw new DemoError(
      `the proxy did not exit within ${STOP_TIMEOUT_MS / 1000} s of SIGTERM (killed it)`,
    );
  }
  if (status.code !== 0) {
    throw new DemoError(`the proxy ended with ${describeExit(status)} after SIGTERM, not 0`);
  }
  resources.proxy = undefined; // kept until here for its output in error reports
  console.log('proxy stopped on SIGTERM with exit code 0');
}

function describeFailure(failure: unknown): string {
  if (failure instanceof DemoError) return failure.message;
  if (failure instanceof Error) return failure.stack ?? failure.message;
  return inspect(failure);
}

async function main(): Promise<void> {
  // A closed stdout (e.g. `| head`) is no reason to crash and skip clean-up.
  process.stdout.on('error', () => undefined);
  const resources: Resources = {
    backends: undefined,
    proxy: undefined,
    client: undefined,
    tempDir: undefined,
  };
  let failure: unknown;
  let exitCode = 0;
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_resolve, reject) => {
    timer = setTimeout(() => {
      reject(new DemoError(`the demo did not finish within ${OVERALL_TIMEOUT_MS / 1000} s`));
    }, OVERALL_TIMEOUT_MS);
  });
  const interrupted = new Promise<never>((_resolve, reject) => {
    const onSignal = (signal: NodeJS.Signals): void => {
      exitCode = 130;
      reject(new DemoError(`interrupted by ${signal}`));
    };
    process.once('SIGINT', onSignal);
    process.once('SIGTERM', onSignal);
  });
  // Either may settle after the race is decided: never an unhandled rejection.
  timeout.catch(() => undefined);
  interrupted.catch(() => undefined);
  try {
    await Promise.race([runDemo(process.argv.slice(2), resources), timeout, interrupted]);
  } catch (error) {
    failure = error;
  } finally {
    clearTimeout(timer);
  }

  if (failure !== undefined) {
    console.error(`\ndemo failed: ${describeFailure(failure)}`);
    if (resources.proxy !== undefined) printProxyOutput(resources.proxy);
    if (exitCode === 0) exitCode = 1;
  }
  // Bounded clean-up: never let a stuck backend or proxy hang the demo.
  await Promise.race([cleanUp(resources), sleep(STOP_TIMEOUT_MS)]);
  process.exit(exitCode);
}

void main();
