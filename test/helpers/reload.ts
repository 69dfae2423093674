/**
 * Reload tests' set-up: a config file in a fresh temporary directory, a
 * proxy started from it (reloadable), and the admin endpoint's calls.
 */
import { mkdtemp, rename, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { stringify } from 'yaml';
import { loadConfigSource } from '../../src/app/config-source.js';
import { Switchyard, type SwitchyardOptions } from '../../src/app/switchyard.js';
import type { Config } from '../../src/config/schema.js';
import { silentLogger } from '../../src/log/logger.js';
import type { TestContext } from './context.js';
import { LISTENER_NAME } from './proxy.js';

/** A temporary directory, removed at teardown. */
export async function tempDir(t: TestContext): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'switchyard-reload-'));
  t.teardown(() => rm(dir, { recursive: true, force: true }));
  return dir;
}

/** Writes `config` as YAML to `path` at once (write to a temporary name, then rename). */
export async function writeConfig(path: string, config: Config | string): Promise<void> {
  const text = typeof config === 'string' ? config : stringify(config);
  await writeFile(`${path}.tmp`, text);
  await rename(`${path}.tmp`, path);
}

export interface FileProxy {
  readonly proxy: Switchyard;
  /** `127.0.0.1:PORT` of listener `main`. */
  readonly address: string;
  /** `http://127.0.0.1:PORT` of the admin endpoint. */
  readonly admin: string;
}

/**
 * Starts a proxy from the config file at `path` (which must have an admin
 * address); file watching off unless `options.watchConfig` says otherwise.
 */
export async function startFileProxy(
  t: TestContext,
  path: string,
  options: Omit<SwitchyardOptions, 'logger' | 'configFile'> = {},
): Promise<FileProxy> {
  const configFile = await loadConfigSource(path);
  const proxy = await Switchyard.start(configFile.config, {
    watchConfig: false,
    ...options,
    configFile,
    logger: silentLogger(),
  });
  t.teardown(() => proxy.close());
  const admin = proxy.adminAddress;
  if (admin === undefined) throw new Error('the test config needs an admin address');
  return {
    proxy,
    address: `127.0.0.1:${proxy.listenerAddress(LISTENER_NAME).port}`,
    admin: `http://127.0.0.1:${admin.port}`,
  };
}

export interface AdminResponse {
  readonly status: number;
  readonly body: string;
}

export async function adminRequest(
  admin: string,
  path: string,
  method: 'GET' | 'POST' = 'GET',
): Promise<AdminResponse> {
  const response = await fetch(`${admin}${path}`, { method });
  return { status: response.status, body: await response.text() };
}

/** `GET /config`'s hash. */
export async function configHash(admin: string): Promise<string> {
  const { body } = await adminRequest(admin, '/config');
  const view: unknown = JSON.parse(body);
  if (
    typeof view !== 'object' ||
    view === null ||
    !('hash' in view) ||
    typeof view.hash !== 'string'
  )
    throw new Error(`unexpected /config body: ${body}`);
  return view.hash;
}

/** Polls `GET /config` until its hash differs from `previous`; rejects after `boundMs`. */
export async function waitForNewHash(
  admin: string,
  previous: string,
  boundMs: number,
): Promise<string> {
  const deadline = Date.now() + boundMs;
  for (;;) {
    const hash = await configHash(admin);
    if (hash !== previous) return hash;
    if (Date.now() > deadline) throw new Error(`config hash still ${previous} after ${boundMs} ms`);
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}
