import t from 'tap';
import { ConfigError, formatIssue, formatPath } from '../../src/config/config-error.js';
import { closestMatch } from '../../src/config/closest-match.js';

void t.test('formatIssue', (t) => {
  t.equal(
    formatIssue({
      file: 'config.yaml',
      line: 12,
      col: 7,
      path: 'clusters[0].endpoints[1].address',
      message: 'expected host:port',
    }),
    'config.yaml:12:7 clusters[0].endpoints[1].address: expected host:port',
  );
  t.equal(
    formatIssue({ file: 'config.yaml', line: 1, col: 1, path: '', message: 'config is empty' }),
    'config.yaml:1:1 config is empty',
  );
  t.end();
});

void t.test('formatPath', (t) => {
  t.equal(formatPath([]), '');
  t.equal(
    formatPath(['clusters', 0, 'endpoints', 1, 'address']),
    'clusters[0].endpoints[1].address',
  );
  t.equal(
    formatPath(['routes', 0, 'match', 'headers', 'x-tenant']),
    'routes[0].match.headers["x-tenant"]',
  );
  t.end();
});

void t.test('ConfigError sorts by position, drops repeats, lists one issue per line', (t) => {
  const at = (line: number, col: number, message: string) => ({
    file: 'c.yaml',
    line,
    col,
    path: 'a',
    message,
  });
  const error = new ConfigError([
    at(3, 1, 'third'),
    at(1, 5, 'second'),
    at(1, 2, 'first'),
    at(3, 1, 'third'),
  ]);
  t.ok(error instanceof Error);
  t.equal(error.name, 'ConfigError');
  t.same(
    error.issues.map((issue) => issue.message),
    ['first', 'second', 'third'],
  );
  t.equal(error.message, 'c.yaml:1:2 a: first\nc.yaml:1:5 a: second\nc.yaml:3:1 a: third');
  t.end();
});

void t.test('closestMatch', (t) => {
  const keys = ['name', 'address', 'tls', 'x_forwarded_for', 'limits'];
  t.equal(closestMatch('adress', keys), 'address');
  t.equal(closestMatch('adderss', keys), 'address', 'a swap counts as one edit');
  t.equal(closestMatch('Name', keys), 'name');
  t.equal(closestMatch('limit', keys), 'limits');
  t.equal(closestMatch('port', keys), undefined);
  t.equal(closestMatch('ab', ['tls']), undefined, 'short words do not match everything');
  t.equal(closestMatch('endpoint', ['endpoints', 'endpoint_s']), 'endpoints');
  t.end();
});
