/**
 * Test set-up in one line: echo backends, a proxy in front of them and a
 * client of the proxy, each closed in the test's teardown (tap runs teardowns
 * last-registered first: client, then proxy, then backends).
 */
import { readFileSync } from 'node:fs';
import net from 'node:net';
import type { TestContext } from './context.js';
import { startEchoBackend, type EchoBackend } from './echo-backend.js';
import { echoClient, type EchoClient, type EchoClientOptions } from './echo-client.js';
import { proxyConfig, startProxy, type ProxyConfigOverrides, type RunningProxy } from './proxy.js';

/** Starts backends with these ids, closed at teardown. */
export async function startBackends(
  t: TestContext,
  ids: readonly string[],
): Promise<EchoBackend[]> {
  const backends = await Promise.all(ids.map((id) => startEchoBackend(id)));
  t.teardown(() => Promise.all(backends.map((b) => b.close())));
  return backends;
}

/** A client of `address`, closed at teardown. */
export function connectClient(
  t: TestContext,
  address: string,
  options?: EchoClientOptions,
): EchoClient {
  const client = echoClient(address, options);
  t.teardown(() => {
    client.close();
  });
  return client;
}

export interface ProxiedEcho extends RunningProxy {
  readonly backends: EchoBackend[];
  readonly client: EchoClient;
}

/** Backends `ids` behind a proxy (cluster `echo`), and a client of the proxy. */
export async function proxiedEcho(
  t: TestContext,
  ids: readonly string[] = ['b1'],
  overrides?: ProxyConfigOverrides,
): Promise<ProxiedEcho> {
  const backends = await startBackends(t, ids);
  const running = await startProxy(
    t,
    proxyConfig(
      backends.map((b) => b.address),
      overrides,
    ),
  );
  const client = connectClient(t, running.address);
  return { ...running, backends, client };
}

/**
 * `127.0.0.1:PORT` where nothing listens. The port is below the kernel's
 * ephemeral range, so no other test's `listen(0)` can be given it while the
 * test runs (a port the OS gave out and took back could be: tap runs test
 * files in parallel), and no outgoing connection takes it as its source port
 * (which could connect a socket to itself). Checked free by binding it once.
 */
export async function deadAddress(): Promise<string> {
  const below = ephemeralRangeStart();
  for (let tries = 0; tries < 100; tries++) {
    const port = 10_000 + Math.floor(Math.random() * (below - 10_000));
    if (await bindsAndCloses(port)) return `127.0.0.1:${String(port)}`;
  }
  throw new Error('no free port below the ephemeral range');
}

/** The first port of the kernel's ephemeral range (Linux's default when unreadable). */
function ephemeralRangeStart(): number {
  try {
    const range = readFileSync('/proc/sys/net/ipv4/ip_local_port_range', 'utf8');
    const first = Number(range.trim().split(/\s+/)[0]);
    return Number.isInteger(first) && first > 11_000 ? first : 32_768;
  } catch {
    return 32_768;
  }
}

/** Whether `port` could be bound on 127.0.0.1 (it is closed again before this resolves). */
async function bindsAndCloses(port: number): Promise<boolean> {
  const server = net.createServer();
  const bound = await new Promise<boolean>((resolve) => {
    server.once('error', () => {
      resolve(false);
    });
    server.listen(port, '127.0.0.1', () => {
      resolve(true);
    });
  });
  if (bound) await new Promise<void>((resolve) => server.close(() => resolve()));
  return bound;
}
