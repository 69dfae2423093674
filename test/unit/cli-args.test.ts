// Command-line parsing: `switchyard [run] [options]`, `switchyard validate FILE`.
import t from 'tap';
import { parseCommand, USAGE, UsageError, type Command } from '../../src/cli/args.js';
import { LOG_LEVELS } from '../../src/log/logger.js';

const RUN_DEFAULTS: Command = {
  kind: 'run',
  configPath: 'config.yaml',
  logLevel: 'info',
  logPretty: false,
};

/** What `fn` throws; a sentinel string when it returns normally. */
function thrownBy(fn: () => unknown): unknown {
  try {
    fn();
  } catch (error: unknown) {
    return error;
  }
  return 'did not throw';
}

void t.test('commands', (t) => {
  const cases: [string[], Command][] = [
    [[], RUN_DEFAULTS],
    [['run'], RUN_DEFAULTS],
    [['--config', 'prod.yaml'], { ...RUN_DEFAULTS, configPath: 'prod.yaml' }],
    [['--config=prod.yaml'], { ...RUN_DEFAULTS, configPath: 'prod.yaml' }],
    [['-c', '/etc/sy.yaml'], { ...RUN_DEFAULTS, configPath: '/etc/sy.yaml' }],
    [['run', '--config', 'a.yaml'], { ...RUN_DEFAULTS, configPath: 'a.yaml' }],
    [['--config', 'a.yaml', 'run'], { ...RUN_DEFAULTS, configPath: 'a.yaml' }],
    [['--log-level', 'debug'], { ...RUN_DEFAULTS, logLevel: 'debug' }],
    [['--log-level', 'silent'], { ...RUN_DEFAULTS, logLevel: 'silent' }],
    [['--log-pretty'], { ...RUN_DEFAULTS, logPretty: true }],
    [['--workers', 'auto'], { ...RUN_DEFAULTS, workers: 'auto' }],
    [['--workers', '4'], { ...RUN_DEFAULTS, workers: 4 }],
    [
      ['run', '-c', 'x.yaml', '--log-level', 'trace', '--log-pretty'],
      { kind: 'run', configPath: 'x.yaml', logLevel: 'trace', logPretty: true },
    ],
    [['validate', 'config.yaml'], { kind: 'validate', configPath: 'config.yaml' }],
    [['validate', '/tmp/other.yaml'], { kind: 'validate', configPath: '/tmp/other.yaml' }],
    [['validate', '--config', 'c.yaml'], { kind: 'validate', configPath: 'c.yaml' }],
    [['--version'], { kind: 'version' }],
    [['-v'], { kind: 'version' }],
    [['run', '--version'], { kind: 'version' }],
    [['--help'], { kind: 'help' }],
    [['-h'], { kind: 'help' }],
    [['--help', '--version'], { kind: 'help' }],
    [['validate', '--help'], { kind: 'help' }],
  ];
  for (const [argv, expected] of cases) {
    t.same(parseCommand(argv), expected, argv.join(' ') || '(no arguments)');
  }
  t.end();
});

void t.test('every log level is accepted', (t) => {
  for (const level of LOG_LEVELS) {
    t.same(parseCommand(['--log-level', level]), { ...RUN_DEFAULTS, logLevel: level }, level);
  }
  t.end();
});

void t.test('usage errors', (t) => {
  const cases: [string[], RegExp][] = [
    [['--log-level', 'loud'], /--log-level must be one of .*got "loud"/],
    [['--log-level', 'INFO'], /--log-level must be one of/],
    [['--log-level', ''], /--log-level must be one of/],
    [['serve'], /unknown command "serve"/],
    [['frobnicate', '--config', 'a.yaml'], /unknown command "frobnicate"/],
    [['run', 'extra'], /unexpected argument "extra"/],
    [['validate'], /validate takes one FILE/],
    [['validate', 'a.yaml', 'b.yaml'], /validate takes one FILE/],
    [['--bogus'], /bogus/],
    [['--config'], /config/],
    [['--log-pretty=yes'], /log-pretty/],
    [['--workers', '0'], /--workers must be auto or an integer >= 1; got "0"/],
    [['--workers', '1.5'], /--workers must be auto or an integer >= 1/],
    [['--workers', 'many'], /--workers must be auto or an integer >= 1/],
    [['--workers'], /workers/],
  ];
  for (const [argv, message] of cases) {
    const error = thrownBy(() => parseCommand(argv));
    t.ok(error instanceof UsageError, `${argv.join(' ')}: a UsageError`);
    t.match(error instanceof Error ? error.message : '', message, `${argv.join(' ')}: message`);
  }
  t.end();
});

void t.test('UsageError is an Error', (t) => {
  const error = thrownBy(() => parseCommand(['nope']));
  t.ok(error instanceof UsageError);
  t.ok(error instanceof Error);
  t.end();
});

void t.test('USAGE documents the commands and every log level', (t) => {
  for (const text of [
    '--config',
    'validate FILE',
    '--version',
    '--help',
    '--log-pretty',
    ...LOG_LEVELS,
  ]) {
    t.ok(USAGE.includes(text), text);
  }
  t.end();
});
