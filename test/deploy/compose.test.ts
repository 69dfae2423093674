/**
 * deploy/docker-compose.yaml and deploy/compose/, checked without Docker:
 *
 * 1. compose/switchyard.yaml loads with the proxy's config loader.
 * 2. docker-compose.yaml agrees with it: the config is mounted where the
 *    image's CMD reads it, the published container ports are exactly the
 *    listener and admin ports (bound to 0.0.0.0 in the container, or the
 *    publish reaches nothing), the healthcheck asks the admin /readyz, and
 *    every endpoint names a compose service whose command serves that port,
 *    built from a Dockerfile that runs the demo Greeter backends.
 * 3. The config itself routes Greeter calls: with its endpoints pointed at
 *    two demo backends on loopback, calls on one connection reach both.
 */
import { existsSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import * as grpc from '@grpc/grpc-js';
import t from 'tap';
import { parse, parseDocument } from 'yaml';
import { loadGreeterProto, sayHello, startGreeterBackends } from '../../demo/greeter-backends.js';
import { Switchyard } from '../../src/app/switchyard.js';
import { parseHostPort } from '../../src/config/host-port.js';
import { loadConfigFile, parseConfigText } from '../../src/config/load-config.js';
import type { Config } from '../../src/config/schema.js';
import { silentLogger } from '../../src/log/logger.js';
import { REPO_ROOT } from '../helpers/repo-root.js';

const repoRoot = REPO_ROOT;
const deployDir = join(repoRoot, 'deploy');
const composeFile = join(deployDir, 'docker-compose.yaml');
const configFile = join(deployDir, 'compose', 'switchyard.yaml');

interface ComposeService {
  build?: { context?: string; dockerfile?: string };
  image?: string;
  command?: string[];
  volumes?: string[];
  ports?: string[];
  healthcheck?: { test?: string[] };
}

const compose = parse(readFileSync(composeFile, 'utf8')) as {
  services?: Record<string, ComposeService>;
};
const services = compose.services ?? {};

const buildIncludes = (
  JSON.parse(readFileSync(join(repoRoot, 'tsconfig.build.json'), 'utf8')) as { include?: string[] }
).include ?? ['(tsconfig.build.json has no include)'];

function portOf(address: string): number {
  return parseHostPort(address)?.port ?? -1;
}

/** The container side of a `ports:` entry: `8080:8080`, `127.0.0.1:9901:9901`, `8080:8080/tcp`. */
function containerPort(entry: string): number {
  return Number(
    entry
      .replace(/\/(tcp|udp)$/, '')
      .split(':')
      .at(-1),
  );
}

/** The JSON array of a Dockerfile's last exec-form `keyword`. */
function dockerfileExec(file: string, keyword: string): string[] {
  const lines = readFileSync(file, 'utf8')
    .split('\n')
    .filter((l) => l.startsWith(`${keyword} `));
  const last = lines.at(-1);
  return last === undefined ? [] : (JSON.parse(last.slice(keyword.length + 1)) as string[]);
}

void t.test('compose/switchyard.yaml is a valid config', async (t) => {
  const config = await loadConfigFile(configFile);
  t.ok(config.listeners.length > 0, 'it loads');
});

void t.test('docker-compose.yaml agrees with compose/switchyard.yaml', async (t) => {
  const config: Config = await loadConfigFile(configFile);
  const proxy = services['switchyard'];
  if (proxy === undefined) {
    t.fail('no service switchyard');
    return;
  }
  const context = resolve(deployDir, proxy.build?.context ?? '.');
  t.equal(context, repoRoot, 'switchyard is built from the repository root');
  t.ok(existsSync(join(context, proxy.build?.dockerfile ?? 'Dockerfile')), 'its Dockerfile exists');

  // The config is mounted where the command (the image's CMD) reads it.
  const command = proxy.command ?? dockerfileExec(join(repoRoot, 'Dockerfile'), 'CMD');
  const configPath = command[command.indexOf('--config') + 1];
  t.ok(command.includes('--config') && configPath !== undefined, 'command has --config FILE');
  const mount = (proxy.volumes ?? [])
    .map((v) => v.split(':'))
    .find(([, target]) => target === configPath);
  t.ok(mount, `a volume mounts ${String(configPath)}`);
  t.equal(resolve(deployDir, mount?.[0] ?? ''), configFile, 'from compose/switchyard.yaml');
  t.equal(mount?.[2], 'ro', 'read-only');

  // Published ports: the listeners and admin, all bound on every interface inside.
  const adminAddress = config.admin?.address;
  if (adminAddress === undefined) {
    t.fail('the compose config has no admin address');
    return;
  }
  const configured = [...config.listeners.map((l) => l.address), adminAddress];
  for (const address of configured) {
    t.equal(
      parseHostPort(address)?.host,
      '0.0.0.0',
      `${address}: reachable from outside the container`,
    );
  }
  t.same(
    (proxy.ports ?? []).map(containerPort).sort((a, b) => a - b),
    configured.map(portOf).sort((a, b) => a - b),
    'published container ports are the listener and admin ports',
  );
  const adminPublish = (proxy.ports ?? []).find((p) => containerPort(p) === portOf(adminAddress));
  t.match(adminPublish, /^127\.0\.0\.1:/, 'admin is published on the host loopback only');
  t.match(
    (proxy.healthcheck?.test ?? []).join(' '),
    `127.0.0.1:${String(portOf(adminAddress))}/readyz`,
    'the healthcheck asks /readyz on the admin port',
  );

  // Endpoints: compose services serving that port with the demo backends.
  const endpoints = config.clusters.flatMap((c) => c.endpoints);
  t.equal(endpoints.length, 2, 'two demo backends');
  for (const endpoint of endpoints) {
    const address =
      typeof endpoint === 'string'
        ? endpoint
        : 'address' in endpoint
          ? endpoint.address
          : endpoint.dns;
    const target = parseHostPort(address);
    const service = services[target?.host ?? ''];
    if (service === undefined || target === undefined) {
      t.fail(`endpoint ${address} names no compose service`);
      continue;
    }
    t.ok(
      service.command?.includes(String(target.port)),
      `${target.host} serves port ${String(target.port)}`,
    );
    t.ok(service.command?.includes('0.0.0.0'), `${target.host} listens on every interface`);
    const dockerfile = join(
      resolve(deployDir, service.build?.context ?? '.'),
      service.build?.dockerfile ?? '',
    );
    t.ok(
      existsSync(dockerfile),
      `${target.host} is built from ${service.build?.dockerfile ?? '?'}`,
    );
    const entrypoint = dockerfileExec(dockerfile, 'ENTRYPOINT');
    t.same(
      entrypoint,
      ['node', '/app/dist/demo/greeter-backends.js'],
      'which runs the demo backends',
    );
    t.ok(existsSync(join(repoRoot, 'demo', 'greeter-backends.ts')), 'whose source exists');
    const copied = readFileSync(dockerfile, 'utf8')
      .split('\n')
      .filter((l) => l.startsWith('COPY '))
      .map((l) => l.split(/\s+/)[1]);
    t.same(
      buildIncludes.filter((dir) => !copied.includes(dir)),
      [],
      'it copies everything tsconfig.build.json compiles',
    );
  }
});

void t.test('the compose config carries Greeter calls to both backends', async (t) => {
  const backends = await startGreeterBackends([0, 0]);
  t.teardown(() => backends.close(0));

  // The compose config, with loopback ports and each service name replaced by a local backend.
  const doc = parseDocument(readFileSync(configFile, 'utf8'));
  doc.setIn(['listeners', 0, 'address'], '127.0.0.1:0');
  doc.setIn(['admin', 'address'], '127.0.0.1:0');
  let text = doc.toString();
  const endpoints = parseConfigText(text, configFile).clusters.flatMap((c) => c.endpoints);
  for (const [i, endpoint] of endpoints.entries()) {
    const backend = backends.backends[i];
    if (typeof endpoint !== 'string' || backend === undefined) continue;
    text = text.replace(endpoint, backend.address);
  }
  const local = parseConfigText(text, configFile);
  t.notMatch(
    JSON.stringify(local.clusters),
    /backend-\d:/,
    'every endpoint points at a local backend',
  );

  const proxy = await Switchyard.start(local, { logger: silentLogger() });
  t.teardown(() => proxy.close());
  await proxy.whenHealthChecked();
  const listener = local.listeners[0]?.name ?? '';
  const { port } = proxy.listenerAddress(listener);
  const { Client } = loadGreeterProto();
  const client = new Client(`127.0.0.1:${String(port)}`, grpc.credentials.createInsecure());
  t.teardown(() => client.close());

  const deadline = Date.now() + 10_000;
  const replies: string[] = [];
  // The TCP health check may pass a moment after the first round; retry UNAVAILABLE, bounded.
  while (replies.length < 4 && Date.now() < deadline) {
    try {
      replies.push((await sayHello(client, { name: 'compose' })).message);
    } catch (error) {
      if ((error as grpc.ServiceError).code !== grpc.status.UNAVAILABLE) throw error;
      await new Promise((r) => setTimeout(r, 50));
    }
  }
  t.equal(replies.length, 4, 'four calls answered');
  t.ok(
    backends.backends.every((b) => b.calls > 0),
    `both backends served calls (${backends.backends.map((b) => String(b.calls)).join(', ')})`,
  );
});
