/**
 * `npm run demo` end to end, on free ports: the built demo
 * (dist/demo/run-demo.js) runs the built proxy (dist/src/cli/main.js) in
 * front of three Greeter backends. Needs `npm run build` first (`npm test`
 * does it); a dist older than the sources fails rather than tests stale code.
 */
import { execFile } from 'node:child_process';
import { existsSync, readdirSync, statSync } from 'node:fs';
import { createServer, type AddressInfo, type Server } from 'node:net';
import { join } from 'node:path';
import t from 'tap';
import { REPO_ROOT } from '../helpers/repo-root.js';

const root = REPO_ROOT;
const demoJs = join(root, 'dist', 'demo', 'run-demo.js');
const mainJs = join(root, 'dist', 'src', 'cli', 'main.js');

interface Result {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** Runs the demo; its own bound is 30 s, this one (SIGKILL) is a backstop. */
function runDemo(args: string[], timeoutMs = 45_000): Promise<Result> {
  return new Promise((resolvePromise) => {
    execFile(
      process.execPath,
      [demoJs, ...args],
      { cwd: root, timeout: timeoutMs, killSignal: 'SIGKILL' },
      (error, stdout, stderr) => {
        const code = error === null ? 0 : typeof error.code === 'number' ? error.code : null;
        resolvePromise({ code, stdout, stderr });
      },
    );
  });
}

/** A listening server on a free loopback port; close it to free the port. */
function listen(host = '127.0.0.1'): Promise<Server> {
  return new Promise((resolvePromise, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen({ host, port: 0 }, () => resolvePromise(server));
  });
}

async function freePorts(count: number): Promise<number[]> {
  // Hold them all at once so that no two are the same, then free them.
  const servers = await Promise.all(Array.from({ length: count }, () => listen()));
  const ports = servers.map((s) => (s.address() as AddressInfo).port);
  await Promise.all(servers.map((s) => new Promise((r) => s.close(r))));
  return ports;
}

function newestMtime(dir: string): number {
  let newest = 0;
  for (const entry of readdirSync(dir, { withFileTypes: true, recursive: true })) {
    if (entry.isFile() && entry.name.endsWith('.ts')) {
      newest = Math.max(newest, statSync(join(entry.parentPath, entry.name)).mtimeMs);
    }
  }
  return newest;
}

const missing = [demoJs, mainJs].filter((f) => !existsSync(f));
if (missing.length > 0) {
  t.fail(`${missing.join(' and ')} missing: run \`npm run build\` first`);
} else {
  const sources = Math.max(newestMtime(join(root, 'demo')), newestMtime(join(root, 'src')));
  const built = Math.min(statSync(demoJs).mtimeMs, statSync(mainJs).mtimeMs);
  if (built < sources) {
    t.fail('dist/ is older than demo/ or src/: run `npm run build` first');
  } else {
    void t.test('the demo spreads calls on one connection over all backends', async (t) => {
      const [proxyPort = 0, adminPort = 0, ...backendPorts] = await freePorts(5);
      const result = await runDemo([
        '--proxy-port',
        String(proxyPort),
        '--admin-port',
        String(adminPort),
        '--backend-ports',
        backendPorts.join(','),
      ]);
      const output = { stdout: result.stdout, stderr: result.stderr };
      t.equal(result.code, 0, 'the demo exits 0', output);

      const calls = [
        ...result.stdout.matchAll(/^call (\d+) -> (backend-\d) \(127\.0\.0\.1:(\d+)\)$/gm),
      ];
      t.same(
        calls.map((m) => Number(m[1])),
        [1, 2, 3, 4, 5, 6, 7, 8, 9],
        'one line per call, 9 calls',
      );
      for (const [i, port] of backendPorts.entries()) {
        const name = `backend-${i + 1}`;
        const served = calls.filter((m) => m[2] === name);
        t.ok(served.length > 0, `${name} served calls (${served.length})`);
        t.ok(
          served.every((m) => Number(m[3]) === port),
          `${name} is the one on port ${port}`,
        );
      }
      t.match(result.stdout, /^summary: 9 calls on one client connection/m, 'prints a summary');
      t.match(result.stdout, /exit code 0/, 'the proxy stopped on SIGTERM with exit code 0');
    });

    void t.test('a busy port fails fast with a clear message', async (t) => {
      const busy = await listen('0.0.0.0');
      t.teardown(() => new Promise((r) => busy.close(r)));
      const busyPort = (busy.address() as AddressInfo).port;
      const [adminPort = 0, ...backendPorts] = await freePorts(4);
      const result = await runDemo([
        '--proxy-port',
        String(busyPort),
        '--admin-port',
        String(adminPort),
        '--backend-ports',
        backendPorts.join(','),
      ]);
      t.equal(result.code, 1, 'exits 1');
      t.match(result.stderr, `port ${busyPort} is busy`, 'names the busy port', {
        stderr: result.stderr,
      });
    });

    void t.test('--help', async (t) => {
      const result = await runDemo(['--help'], 10_000);
      t.equal(result.code, 0, 'exits 0');
      t.match(result.stdout, /--backend-ports/, 'shows the options');
    });
  }
}
