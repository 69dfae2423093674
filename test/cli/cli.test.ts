/**
 * The `switchyard` command as users run it (the built dist/, a real child
 * process): validate and run report every config error with its position
 * and exit 1; usage errors exit 2.
 */
import { execFile } from 'node:child_process';
import t from 'tap';
import { REPO_ROOT, repoPath } from '../helpers/repo-root.js';

const ROOT = REPO_ROOT;
const MAIN = repoPath('dist', 'src', 'cli', 'main.js');
const THREE_MISTAKES = 'test/fixtures/config/three-mistakes.yaml';
const EXPECTED = [
  `${THREE_MISTAKES}:19:14 routes[1].cluster: unknown cluster "default-backends"; clusters are: greeter-backends`,
  `${THREE_MISTAKES}:27:9 clusters[0].endpoints[1]: expected host:port (port 1-65535)`,
  `${THREE_MISTAKES}:29:9 clusters[0].endpoints[2].weigth: unknown key "weigth" (did you mean "weight"?)`,
];

interface Run {
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
}

function switchyard(args: readonly string[]): Promise<Run> {
  return new Promise((resolve) => {
    execFile(
      process.execPath,
      [MAIN, ...args],
      { cwd: ROOT, timeout: 20_000 },
      (error, stdout, stderr) => {
        const code = error === null ? 0 : typeof error.code === 'number' ? error.code : -1;
        resolve({ code, stdout, stderr });
      },
    );
  });
}

void t.test('validate: all three mistakes, with line and column, exit 1', async (t) => {
  const run = await switchyard(['validate', THREE_MISTAKES]);
  t.equal(run.code, 1);
  t.same(run.stderr.trim().split('\n'), EXPECTED);
});

void t.test('run: refuses to start on the same config with the same messages', async (t) => {
  const run = await switchyard(['--config', THREE_MISTAKES, '--log-level', 'silent']);
  t.equal(run.code, 1);
  t.same(run.stderr.trim().split('\n'), EXPECTED);
});

void t.test('validate: a good config exits 0', async (t) => {
  const run = await switchyard(['validate', 'config.example.yaml']);
  t.equal(run.code, 0);
  t.equal(run.stdout, 'config.example.yaml: ok\n');
});

void t.test('--version and --help', async (t) => {
  const version = await switchyard(['--version']);
  t.equal(version.code, 0);
  t.match(version.stdout, /^switchyard \d+\.\d+\.\d+\n$/);
  const help = await switchyard(['--help']);
  t.equal(help.code, 0);
  t.match(help.stdout, /switchyard validate FILE/);
});

void t.test('usage errors exit 2 and say why', async (t) => {
  const run = await switchyard(['--log-level', 'loud']);
  t.equal(run.code, 2);
  t.match(run.stderr, /--log-level must be one of/);
  const missing = await switchyard(['--config', 'no/such/file.yaml']);
  t.equal(missing.code, 1);
  t.match(missing.stderr, /no\/such\/file\.yaml:1:1 cannot read config/);
});
