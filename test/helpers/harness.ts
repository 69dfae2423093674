/**
 * Test set-up in one line: echo backends, a proxy in front of them and a
 * client of the proxy, each closed in the test's teardown (tap runs teardowns
 * last-registered first: client, then proxy, then backends).
 */
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

/** `127.0.0.1:PORT` where nothing listens: a port the OS just gave out and took back. */
export async function deadAddress(): Promise<string> {
  const server = net.createServer();
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', resolve);
  });
  const address = server.address();
  if (address === null || typeof address === 'string') throw new Error('no TCP address');
  await new Promise<void>((resolve, reject) => {
    server.close((error) => {
      if (error === undefined) resolve();
      else reject(error);
    });
  });
  return `127.0.0.1:${address.port}`;
}
