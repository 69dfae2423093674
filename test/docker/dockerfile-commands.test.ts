/**
 * The Dockerfile, checked without a Docker engine (none runs here).
 *
 * 1. Parse it and check the invariants the image relies on: multi-stage,
 *    a non-root runtime user, exec-form ENTRYPOINT/CMD (so node is PID 1 and
 *    gets SIGTERM), the config at /etc/switchyard/config.yaml, the exposed
 *    ports matching config.example.yaml, every tsconfig.build.json input
 *    copied into the build stage.
 * 2. Carry out its steps outside Docker: every stage gets a directory that
 *    stands in for its filesystem root; COPY copies with Docker's rules (from
 *    the context minus .dockerignore, or from an earlier stage's root); RUN
 *    runs in the stage's WORKDIR with only the stage's ENV. One shortcut:
 *    `npm ci` is done by copying this checkout's node_modules, which `npm ci`
 *    made from the same lockfile (about 2 s instead of 15-20 s); set
 *    SWITCHYARD_TEST_REAL_NPM_CI=1 to run it for real. `npm run build` and
 *    `npm prune --omit=dev` run as written.
 * 3. Start the runtime stage's ENTRYPOINT + CMD in the runtime root, with only
 *    the pruned production node_modules reachable (a runtime import of a
 *    devDependency fails here), as an unprivileged user when the test runs
 *    as root, with the config rewritten to free loopback ports (as a user
 *    would mount their own): wait for /readyz 200, then SIGTERM must end it
 *    with exit code 0 within a few seconds.
 */
import { spawn, spawnSync, type SpawnOptions } from 'node:child_process';
import {
  chmodSync,
  copyFileSync,
  cpSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  realpathSync,
  rmSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import { createServer, type AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { basename, dirname, join, posix, relative, sep } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import t from 'tap';
import { parse, parseDocument } from 'yaml';
import { REPO_ROOT } from '../helpers/repo-root.js';

const repoRoot = REPO_ROOT;
const CONFIG_PATH = '/etc/switchyard/config.yaml';
const READY_TIMEOUT_MS = 15_000;
const STOP_TIMEOUT_MS = 5_000;

// ---------------------------------------------------------------------------
// A small Dockerfile parser: enough for this project's Dockerfile.

interface Instruction {
  keyword: string;
  args: string;
  line: number;
}

interface Stage {
  image: string;
  name: string | undefined;
  instructions: Instruction[];
}

function parseDockerfile(text: string): Stage[] {
  const stages: Stage[] = [];
  const lines = text.split('\n');
  for (let i = 0; i < lines.length; i++) {
    const startLine = i + 1;
    let line = lines[i] ?? '';
    if (/^\s*(#|$)/.test(line)) continue;
    // Continuation lines; comment lines inside a continuation are dropped.
    while (line.trimEnd().endsWith('\\') && i + 1 < lines.length) {
      line = line.trimEnd().slice(0, -1);
      i++;
      const next = lines[i] ?? '';
      if (!/^\s*#/.test(next)) line += ` ${next.trim()}`;
    }
    const match = /^\s*([A-Za-z]+)\s+(.*)$/.exec(line);
    if (match === null) throw new Error(`Dockerfile:${startLine}: cannot parse ${line}`);
    const keyword = (match[1] ?? '').toUpperCase();
    const args = (match[2] ?? '').trim();
    if (keyword === 'FROM') {
      const from = /^(?:--\S+\s+)*(\S+)(?:\s+AS\s+(\S+))?$/i.exec(args);
      if (from === null) throw new Error(`Dockerfile:${startLine}: cannot parse FROM ${args}`);
      stages.push({ image: from[1] ?? '', name: from[2], instructions: [] });
    } else {
      const stage = stages.at(-1);
      if (stage === undefined) throw new Error(`Dockerfile:${startLine}: ${keyword} before FROM`);
      stage.instructions.push({ keyword, args, line: startLine });
    }
  }
  return stages;
}

function all(stage: Stage, keyword: string): Instruction[] {
  return stage.instructions.filter((i) => i.keyword === keyword);
}

function last(stage: Stage, keyword: string): Instruction | undefined {
  return all(stage, keyword).at(-1);
}

/** The JSON array of an exec-form instruction, or undefined for shell form. */
function execForm(instruction: Instruction | undefined): string[] | undefined {
  if (instruction === undefined || !instruction.args.startsWith('[')) return undefined;
  const value: unknown = JSON.parse(instruction.args);
  if (!Array.isArray(value) || !value.every((v) => typeof v === 'string')) return undefined;
  return value;
}

/** `ENV A=1 B=2` and the legacy `ENV A 1`. */
function envOf(stage: Stage): Record<string, string> {
  const env: Record<string, string> = {};
  for (const { args } of all(stage, 'ENV')) {
    if (/^[A-Za-z_][A-Za-z0-9_]*=/.test(args)) {
      for (const pair of args.match(/[A-Za-z_][A-Za-z0-9_]*=(?:"[^"]*"|\S*)/g) ?? []) {
        const eq = pair.indexOf('=');
        env[pair.slice(0, eq)] = pair.slice(eq + 1).replace(/^"(.*)"$/, '$1');
      }
    } else {
      const [key = '', ...rest] = args.split(/\s+/);
      env[key] = rest.join(' ');
    }
  }
  return env;
}

interface Copy {
  from: string | undefined;
  sources: string[];
  dest: string;
}

function parseCopy({ args, line }: Instruction): Copy {
  const words = args.split(/\s+/);
  let from: string | undefined;
  while (words[0]?.startsWith('--') === true) {
    const flag = words.shift() ?? '';
    if (flag.startsWith('--from=')) from = flag.slice('--from='.length);
    else if (!/^--(chown|chmod|link)/.test(flag)) {
      throw new Error(`Dockerfile:${line}: COPY flag ${flag} is not emulated by this test`);
    }
  }
  const dest = words.pop();
  if (dest === undefined || words.length === 0) {
    throw new Error(`Dockerfile:${line}: COPY needs sources and a destination`);
  }
  return { from, sources: words, dest };
}

// ---------------------------------------------------------------------------
// Emulating the build.

function dockerignorePatterns(): RegExp[] {
  const file = join(repoRoot, '.dockerignore');
  if (!existsSync(file)) return [];
  return readFileSync(file, 'utf8')
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => l !== '' && !l.startsWith('#'))
    .map((pattern) => {
      const body = pattern
        .replace(/^\/+|\/+$/g, '')
        .split('/')
        .map((part) =>
          part === '**'
            ? '.*'
            : part
                .replace(/[.+^${}()|[\]\\]/g, '\\$&')
                .replace(/\*/g, '[^/]*')
                .replace(/\?/g, '[^/]'),
        )
        .join('/');
      // A pattern also excludes everything below what it matches.
      return new RegExp(`^${body}(/.*)?$`);
    });
}

/** Paths in the context matching a COPY source (a `*` glob in the last part). */
function expandContextSource(source: string, ignored: RegExp[]): string[] {
  const rel = posix.normalize(source).replace(/^\/+/, '').replace(/\/+$/, '');
  const dir = posix.dirname(rel);
  const base = posix.basename(rel);
  let names: string[];
  if (base.includes('*') || base.includes('?')) {
    const re = new RegExp(
      `^${base
        .replace(/[.+^${}()|[\]\\]/g, '\\$&')
        .replace(/\*/g, '.*')
        .replace(/\?/g, '.')}$`,
    );
    const parent = join(repoRoot, dir);
    names = existsSync(parent) ? readdirSync(parent).filter((n) => re.test(n)) : [];
  } else {
    names = existsSync(join(repoRoot, rel)) ? [base] : [];
  }
  return names
    .map((n) => (dir === '.' ? n : `${dir}/${n}`))
    .filter((p) => !ignored.some((re) => re.test(p)));
}

function copyPath(from: string, to: string, filter?: (source: string) => boolean): void {
  mkdirSync(dirname(to), { recursive: true });
  if (filter !== undefined) {
    cpSync(from, to, { recursive: true, verbatimSymlinks: true, filter });
    return;
  }
  // cp -a: fs.cpSync takes ~25 s for a dev node_modules, cp -a ~2 s.
  const cp = spawnSync('cp', ['-a', '--', from, to], { encoding: 'utf8', timeout: 120_000 });
  if (cp.status !== 0) throw new Error(`cp -a ${from} ${to} failed: ${cp.stderr}`);
}

/**
 * A copy of a node_modules tree made of hard links (0.5 s where a real copy
 * takes seconds to tens of seconds on a busy disk). Safe for what runs on
 * it here: npm prune only unlinks, except for the hidden lockfile, which it
 * rewrites in place and so gets a copy of its own; nothing else writes into
 * it. Falls back to a real copy across filesystems.
 */
function linkTree(from: string, to: string): void {
  mkdirSync(dirname(to), { recursive: true });
  const cp = spawnSync('cp', ['-al', '--', from, to], { encoding: 'utf8', timeout: 120_000 });
  if (cp.status !== 0) {
    rmSync(to, { recursive: true, force: true });
    copyPath(from, to);
    return;
  }
  const hidden = join(to, '.package-lock.json');
  if (existsSync(hidden)) {
    rmSync(hidden);
    copyFileSync(join(from, '.package-lock.json'), hidden);
  }
}

/** One COPY with Docker's rules: a directory's contents go into dest. */
function emulateCopy(
  copy: Copy,
  root: string,
  workdir: string,
  stageRoots: Map<string, string>,
  ignored: RegExp[],
): void {
  const destPath = posix.isAbsolute(copy.dest) ? copy.dest : posix.join(workdir, copy.dest);
  const dest = join(root, destPath);
  const intoDir = copy.dest.endsWith('/') || copy.sources.length > 1;
  const resolved: { path: string; filter?: (source: string) => boolean }[] = [];
  for (const source of copy.sources) {
    if (copy.from !== undefined) {
      const fromRoot = stageRoots.get(copy.from);
      if (fromRoot === undefined) throw new Error(`COPY --from=${copy.from}: no such stage`);
      const path = join(fromRoot, source);
      if (!existsSync(path)) {
        throw new Error(`COPY --from=${copy.from} ${source}: not found in that stage`);
      }
      resolved.push({ path });
    } else {
      const matches = expandContextSource(source, ignored);
      if (matches.length === 0) {
        throw new Error(`COPY ${source}: not found in the build context (or .dockerignore'd)`);
      }
      const filter = (p: string): boolean => {
        const rel = relative(repoRoot, p).split(sep).join('/');
        return rel === '' || !ignored.some((re) => re.test(rel));
      };
      for (const m of matches) resolved.push({ path: join(repoRoot, m), filter });
    }
  }
  for (const { path, filter } of resolved) {
    const isDir = statSync(path).isDirectory();
    if (isDir) {
      for (const name of readdirSync(path)) copyPath(join(path, name), join(dest, name), filter);
      mkdirSync(dest, { recursive: true });
    } else if (intoDir || (existsSync(dest) && statSync(dest).isDirectory())) {
      copyPath(path, join(dest, basename(path)), filter);
    } else {
      copyPath(path, dest, filter);
    }
  }
}

interface Run {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

/**
 * Runs argv with exactly `env`: through `env -i`, so that nothing of this
 * process's environment (tap adds NODE_OPTIONS to every child) leaks in.
 */
function cleanSpawnArgs(argv: readonly string[], env: Record<string, string>): [string, string[]] {
  return ['/usr/bin/env', ['-i', ...Object.entries(env).map(([k, v]) => `${k}=${v}`), ...argv]];
}

function run(
  argv: readonly string[],
  options: { cwd: string; env: Record<string, string>; timeoutMs: number; asUser?: UserIds },
): Promise<Run> {
  const [command, args] = cleanSpawnArgs(argv, options.env);
  return new Promise((resolvePromise, reject) => {
    const child = spawn(command, args, {
      cwd: options.cwd,
      stdio: ['ignore', 'pipe', 'pipe'],
      timeout: options.timeoutMs,
      killSignal: 'SIGKILL',
      ...(options.asUser ?? {}),
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    child.once('error', reject);
    child.once('close', (code, signal) => resolvePromise({ code, signal, stdout, stderr }));
  });
}

function tail(text: string, lines = 30): string {
  return text.trimEnd().split('\n').slice(-lines).join('\n');
}

interface UserIds {
  uid: number;
  gid: number;
}

/** Like `USER node`: when we are root, run the proxy as nobody. */
function unprivilegedUser(): UserIds | undefined {
  if (process.getuid?.() !== 0) return undefined;
  const ids = { uid: 65534, gid: 65534 };
  const [command, args] = cleanSpawnArgs([process.execPath, '-e', ''], {});
  const probe = spawnSync(command, args, { ...ids, cwd: '/', timeout: 10_000 });
  return probe.status === 0 ? ids : undefined;
}

function freePort(): Promise<number> {
  return new Promise((resolvePromise, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen({ host: '127.0.0.1', port: 0 }, () => {
      const { port } = server.address() as AddressInfo;
      server.close(() => resolvePromise(port));
    });
  });
}

function exampleConfig(): { listenerPort: number; adminPort: number } {
  const config = parse(readFileSync(join(repoRoot, 'config.example.yaml'), 'utf8')) as unknown as
    { admin?: { address?: unknown }; listeners?: { address?: unknown }[] } | undefined;
  const portOf = (address: unknown): number =>
    typeof address === 'string' ? Number(address.slice(address.lastIndexOf(':') + 1)) : NaN;
  return {
    listenerPort: portOf(config?.listeners?.[0]?.address),
    adminPort: portOf(config?.admin?.address),
  };
}

// ---------------------------------------------------------------------------

const dockerfile = readFileSync(join(repoRoot, 'Dockerfile'), 'utf8');
const stages = parseDockerfile(dockerfile);
const runtime = stages.at(-1);
const build = stages.find((s) => s.name === 'build');

void t.test('Dockerfile invariants', (t) => {
  t.ok(stages.length >= 2, 'multi-stage build');
  if (runtime === undefined || build === undefined) {
    t.fail('needs a stage named build and a final runtime stage');
    t.end();
    return;
  }
  t.not(runtime, build, 'the runtime stage is not the build stage');
  for (const stage of [build, runtime]) {
    t.match(stage.image, /^node:\d+[^:]*$/, `${stage.name ?? 'runtime'}: a tagged node image`);
  }
  t.equal(build.image, runtime.image, 'build and runtime use the same node image');

  const user = last(runtime, 'USER')?.args;
  t.ok(user !== undefined && !/^(root|0)(:.*)?$/.test(user), `runtime USER is not root (${user})`);
  t.equal(envOf(runtime)['NODE_ENV'], 'production', 'runtime ENV NODE_ENV=production');
  t.equal(last(runtime, 'STOPSIGNAL')?.args ?? 'SIGTERM', 'SIGTERM', 'stop signal SIGTERM');
  t.same(all(runtime, 'RUN'), [], 'the runtime stage runs nothing: all is built in build');

  const entrypoint = execForm(last(runtime, 'ENTRYPOINT'));
  const cmd = execForm(last(runtime, 'CMD'));
  t.ok(entrypoint, 'ENTRYPOINT in exec form (node is PID 1 and gets SIGTERM itself)');
  t.ok(cmd, 'CMD in exec form');
  t.equal(entrypoint?.[0], 'node', 'ENTRYPOINT runs node');
  t.match(entrypoint?.[1] ?? '', /^\/.*\.js$/, 'ENTRYPOINT names an absolute .js file');
  t.same(cmd, ['--config', CONFIG_PATH], `CMD is --config ${CONFIG_PATH}`);

  const copies = all(runtime, 'COPY').map(parseCopy);
  t.ok(
    copies.some(
      (c) =>
        c.from === undefined && c.sources.includes('config.example.yaml') && c.dest === CONFIG_PATH,
    ),
    `config.example.yaml is copied to ${CONFIG_PATH}`,
  );
  t.ok(
    copies.some((c) => c.from === 'build' && c.sources.includes('/app/node_modules')),
    'node_modules come from the build stage (pruned there)',
  );

  const exposed = all(runtime, 'EXPOSE').flatMap((i) =>
    i.args.split(/\s+/).map((p) => parseInt(p)),
  );
  const { listenerPort, adminPort } = exampleConfig();
  t.ok(exposed.includes(listenerPort), `EXPOSE the example listener port ${listenerPort}`);
  t.ok(exposed.includes(adminPort), `EXPOSE the example admin port ${adminPort}`);

  // Everything the build compiles must be in the build stage.
  const tsconfigBuild: unknown = JSON.parse(
    readFileSync(join(repoRoot, 'tsconfig.build.json'), 'utf8'),
  );
  const include =
    typeof tsconfigBuild === 'object' && tsconfigBuild !== null && 'include' in tsconfigBuild
      ? tsconfigBuild.include
      : undefined;
  t.ok(Array.isArray(include), 'tsconfig.build.json has include');
  const buildSources = all(build, 'COPY')
    .map(parseCopy)
    .flatMap((c) => c.sources);
  for (const dir of Array.isArray(include) ? include : []) {
    t.ok(buildSources.includes(String(dir)), `build stage copies ${String(dir)}/`);
  }
  const runs = all(build, 'RUN').map((i) => i.args);
  t.ok(
    runs.some((r) => /^npm ci\b/.test(r)),
    'build: npm ci (from the lockfile)',
  );
  t.ok(
    runs.some((r) => /^npm run build\b/.test(r)),
    'build: npm run build',
  );
  t.ok(
    runs.some((r) => /^npm prune\b.*--omit=dev/.test(r)),
    'build: npm prune --omit=dev before node_modules go to the runtime',
  );

  const ignored = readFileSync(join(repoRoot, '.dockerignore'), 'utf8').split('\n');
  for (const name of ['node_modules', 'dist', '.git']) {
    t.ok(ignored.includes(name), `.dockerignore has ${name}`);
  }
  t.end();
});

void t.test('the Dockerfile steps, run outside Docker', async (t) => {
  if (runtime === undefined || build === undefined) {
    t.fail('no build/runtime stages to run');
    return;
  }
  const work = mkdtempSync(join(tmpdir(), 'switchyard-docker-'));
  t.teardown(() => rmSync(work, { recursive: true, force: true }));
  // Nothing above the runtime root may offer node_modules to resolve from.
  for (let dir = work; dirname(dir) !== dir; dir = dirname(dir)) {
    if (existsSync(join(dirname(dir), 'node_modules'))) {
      t.fail(`${join(dirname(dir), 'node_modules')} exists: the runtime check would not be sealed`);
      return;
    }
  }

  const ignored = dockerignorePatterns();
  const stageRoots = new Map<string, string>();
  const realNpmCi = process.env['SWITCHYARD_TEST_REAL_NPM_CI'] === '1';
  const buildEnv: Record<string, string> = {
    PATH: process.env['PATH'] ?? '/usr/local/bin:/usr/bin:/bin',
    HOME: process.env['HOME'] ?? work, // npm's cache and config
  };

  for (const [index, stage] of stages.entries()) {
    const root = join(work, `stage-${index}-${stage.name ?? 'unnamed'}`);
    mkdirSync(root, { recursive: true });
    let workdir = '/';
    for (const instruction of stage.instructions) {
      const where = `Dockerfile:${instruction.line}: ${instruction.keyword} ${instruction.args}`;
      if (instruction.keyword === 'WORKDIR') {
        workdir = posix.resolve(workdir, instruction.args);
        mkdirSync(join(root, workdir), { recursive: true });
      } else if (instruction.keyword === 'COPY') {
        try {
          emulateCopy(parseCopy(instruction), root, workdir, stageRoots, ignored);
        } catch (error) {
          t.fail(`${where}: ${error instanceof Error ? error.message : String(error)}`);
          return;
        }
      } else if (instruction.keyword === 'RUN') {
        const command = instruction.args;
        if (!/^npm (ci|run build|prune)\b/.test(command)) {
          t.fail(`${where}: this test does not know how to run that outside Docker; extend it`);
          return;
        }
        const cwd = join(root, workdir);
        const started = Date.now();
        if (/^npm ci\b/.test(command) && !realNpmCi) {
          // Stand-in for `npm ci`: this checkout's node_modules came from it.
          linkTree(realpathSync(join(repoRoot, 'node_modules')), join(cwd, 'node_modules'));
          t.pass(
            `${where} (stand-in: this checkout's node_modules, hard-linked, ${Date.now() - started} ms)`,
          );
          continue;
        }
        const line = realNpmCi ? command.replace(/^npm ci\b/, 'npm ci --prefer-offline') : command;
        const result = await run(['sh', '-c', line], {
          cwd,
          env: { ...buildEnv, ...envOf(stage) },
          timeoutMs: 180_000,
        });
        if (result.code !== 0) {
          t.fail(`${where} failed (${result.code ?? result.signal ?? '?'})`, {
            stdout: tail(result.stdout),
            stderr: tail(result.stderr),
          });
          return;
        }
        t.pass(`${where} (${Date.now() - started} ms)`);
      }
      // FROM, ENV, USER, EXPOSE, STOPSIGNAL, ENTRYPOINT, CMD: read where needed.
    }
    if (stage.name !== undefined) stageRoots.set(stage.name, root);
    stageRoots.set(String(index), root);
  }

  const runtimeRoot = join(work, `stage-${stages.length - 1}-${runtime.name ?? 'unnamed'}`);
  const inRuntime = (path: string): string => join(runtimeRoot, path);
  let runtimeWorkdir = '/';
  for (const w of all(runtime, 'WORKDIR')) runtimeWorkdir = posix.resolve(runtimeWorkdir, w.args);

  // The runtime's node_modules hold production dependencies only.
  const pkg = JSON.parse(readFileSync(join(repoRoot, 'package.json'), 'utf8')) as {
    version: string;
    dependencies?: Record<string, string>;
    devDependencies?: Record<string, string>;
  };
  const lock = JSON.parse(readFileSync(join(repoRoot, 'package-lock.json'), 'utf8')) as {
    packages?: Record<string, { dev?: boolean }>;
  };
  const runtimeModules = inRuntime('/app/node_modules');
  for (const dep of Object.keys(pkg.dependencies ?? {})) {
    t.ok(existsSync(join(runtimeModules, dep)), `runtime node_modules has ${dep}`);
  }
  for (const dep of Object.keys(pkg.devDependencies ?? {})) {
    if (lock.packages?.[`node_modules/${dep}`]?.dev !== true) continue; // also a prod dep
    t.notOk(
      existsSync(join(runtimeModules, dep)),
      `runtime node_modules lack devDependency ${dep}`,
    );
  }

  const entrypoint = execForm(last(runtime, 'ENTRYPOINT')) ?? [];
  const cmd = execForm(last(runtime, 'CMD')) ?? [];
  // Inside the image: absolute paths live under the runtime root, `node` is
  // the node running this test (the one under test in CI's Node 20 and 26).
  const mapArg = (arg: string, i: number): string =>
    i === 0 && arg === 'node'
      ? process.execPath
      : arg.startsWith('/') && existsSync(inRuntime(arg))
        ? inRuntime(arg)
        : arg;
  const entry = entrypoint.map(mapArg);
  const main = entry[1];
  if (main === undefined || !existsSync(main)) {
    t.fail(`ENTRYPOINT ${entrypoint.join(' ')}: ${entrypoint[1] ?? '?'} is not in the image`);
    return;
  }
  t.pass(`ENTRYPOINT file ${entrypoint[1] ?? ''} is in the image`);
  const configIndex = cmd.indexOf('--config') + 1;
  const configInImage = cmd[configIndex] ?? '';
  t.ok(existsSync(inRuntime(configInImage)), `CMD's config ${configInImage} is in the image`);
  t.equal(
    readFileSync(inRuntime(configInImage), 'utf8'),
    readFileSync(join(repoRoot, 'config.example.yaml'), 'utf8'),
    'it is config.example.yaml',
  );

  // As `USER node` would: an unprivileged user must be able to read it all.
  const asUser = unprivilegedUser();
  if (asUser !== undefined) {
    for (let dir = runtimeRoot; dir !== dirname(work); dir = dirname(dir)) chmodSync(dir, 0o755);
  } else {
    t.comment('not root: running the proxy as the current user');
  }
  const runtimeEnv: Record<string, string> = {
    PATH: '/usr/local/bin:/usr/bin:/bin',
    HOME: '/nonexistent',
    ...envOf(runtime),
  };
  const cwd = inRuntime(runtimeWorkdir);
  const runInImage = (args: string[], timeoutMs = 20_000): Promise<Run> =>
    run([...entry, ...args], {
      cwd,
      env: runtimeEnv,
      timeoutMs,
      ...(asUser === undefined ? {} : { asUser }),
    });

  const version = await runInImage(['--version']);
  t.equal(version.code, 0, '--version exits 0 in the image', { stderr: tail(version.stderr) });
  t.match(version.stdout, pkg.version, `--version prints ${pkg.version}`);

  const validate = await runInImage(['validate', inRuntime(configInImage)]);
  t.equal(validate.code, 0, `validate ${configInImage} exits 0 in the image`, {
    stdout: tail(validate.stdout),
    stderr: tail(validate.stderr),
  });

  // The config a user would mount: the example with free loopback ports.
  const listenerPort = await freePort();
  const adminPort = await freePort();
  const doc = parseDocument(readFileSync(inRuntime(configInImage), 'utf8'));
  doc.setIn(['listeners', 0, 'address'], `127.0.0.1:${listenerPort}`);
  doc.setIn(['admin', 'address'], `127.0.0.1:${adminPort}`);
  writeFileSync(inRuntime(configInImage), doc.toString());

  const argv = [...entry, ...cmd.map((arg, i) => mapArg(arg, i + entry.length))];
  const [command, args] = cleanSpawnArgs(argv, runtimeEnv);
  const spawnOptions: SpawnOptions = { cwd, stdio: ['ignore', 'pipe', 'pipe'], ...(asUser ?? {}) };
  const proxy = spawn(command, args, spawnOptions);
  let stdout = '';
  let stderr = '';
  proxy.stdout?.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
  proxy.stderr?.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  let exit: { code: number | null; signal: NodeJS.Signals | null } | undefined;
  const exited = new Promise<NonNullable<typeof exit>>((resolvePromise) => {
    proxy.once('exit', (code, signal) => {
      exit = { code, signal };
      resolvePromise(exit);
    });
  });
  t.teardown(() => {
    if (exit === undefined) proxy.kill('SIGKILL');
  });
  const output = (): Record<string, string> => ({ stdout: tail(stdout), stderr: tail(stderr) });

  const admin = `http://127.0.0.1:${adminPort}`;
  let ready = false;
  const deadline = Date.now() + READY_TIMEOUT_MS;
  while (!ready && exit === undefined && Date.now() < deadline) {
    try {
      const response = await fetch(`${admin}/readyz`, { signal: AbortSignal.timeout(1000) });
      await response.body?.cancel();
      ready = response.status === 200;
    } catch {
      // not listening yet
    }
    if (!ready) await Promise.race([sleep(50), exited]);
  }
  if (!ready) {
    t.fail(
      exit === undefined
        ? `/readyz did not answer 200 within ${READY_TIMEOUT_MS} ms`
        : `the proxy exited early (${exit.code ?? exit.signal ?? '?'})`,
      output(),
    );
    return;
  }
  t.pass('GET /readyz 200: the image runs with production dependencies only');
  const health = await fetch(`${admin}/healthz`, { signal: AbortSignal.timeout(2000) });
  await health.body?.cancel();
  t.equal(health.status, 200, 'GET /healthz 200');
  t.match(stdout, /"msg":"switchyard ready"/, 'logged "switchyard ready" as JSON on stdout');

  proxy.kill('SIGTERM');
  const status = await Promise.race([exited, sleep(STOP_TIMEOUT_MS).then(() => undefined)]);
  t.same(
    status,
    { code: 0, signal: null },
    `SIGTERM: exit code 0 within ${STOP_TIMEOUT_MS} ms`,
    output(),
  );
});
