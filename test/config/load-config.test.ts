import { mkdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import t from 'tap';
import { parse } from 'yaml';
import { ConfigError, formatIssue, type ConfigIssue } from '../../src/config/config-error.js';
import { loadConfigFile, parseConfigText } from '../../src/config/load-config.js';
import { issues, SMALL_CONFIG } from '../helpers/config-lines.js';
import { repoPath } from '../helpers/repo-root.js';

const fixture = (name: string): string => repoPath('test', 'fixtures', 'config', name);

/** The issues loadConfigFile rejects with; fails the test if it loads. */
async function loadIssues(file: string): Promise<readonly ConfigIssue[]> {
  try {
    await loadConfigFile(file);
  } catch (error) {
    if (error instanceof ConfigError) return error.issues;
    throw error;
  }
  throw new Error(`${file} loaded, but issues were expected`);
}

const base = SMALL_CONFIG;

/** `base` with line `n` (1-based) replaced by `lines`. */
const edit = (n: number, ...lines: string[]): string[] => [
  ...base.slice(0, n - 1),
  ...lines,
  ...base.slice(n),
];

void t.test('a valid full config loads as written, without defaults filled in', async (t) => {
  const file = fixture('valid.yaml');
  const text = readFileSync(file, 'utf8');
  const config = await loadConfigFile(file);
  t.strictSame(config, parse(text));
  t.equal(config.clusters[1]?.lb_policy, undefined);
  t.same(issues(base), []);
});

void t.test(
  'three mistakes: exactly three issues, in file order, at the right spots',
  async (t) => {
    const text = readFileSync(fixture('three-mistakes.yaml'), 'utf8');
    const error = t.throws(() => parseConfigText(text, 'three-mistakes.yaml'));
    if (!(error instanceof ConfigError)) throw new Error('expected a ConfigError');
    t.same(error.issues.map(formatIssue), [
      'three-mistakes.yaml:19:14 routes[1].cluster: unknown cluster "default-backends"; clusters are: greeter-backends',
      'three-mistakes.yaml:27:9 clusters[0].endpoints[1]: expected host:port (port 1-65535)',
      'three-mistakes.yaml:29:9 clusters[0].endpoints[2].weigth: unknown key "weigth" (did you mean "weight"?)',
    ]);
    t.equal(error.message, error.issues.map(formatIssue).join('\n'));

    const file = fixture('three-mistakes.yaml');
    await t.rejects(loadConfigFile(file), {
      name: 'ConfigError',
      issues: [{ file }, { file }, { file }],
    });
  },
);

void t.test('YAML syntax errors are positioned, all reported, and stop the load', (t) => {
  // Two misindented keys, both reported; the bad name on line 2 is not: after a syntax
  // error the tree cannot be trusted, so validation stops there.
  const lines = [...base];
  lines[1] = '  - name: public api';
  lines[6] = '     cluster: backends';
  lines[9] = '   endpoints:';
  t.same(issues(lines), [
    'config.yaml:7:1 invalid YAML: all mapping items must start at the same column',
    'config.yaml:10:1 invalid YAML: sequence item without - indicator',
  ]);
  t.same(issues(edit(7, '    cluster: [backends')), [
    'config.yaml:8:1 invalid YAML: flow sequence in block collection must be sufficiently indented and end with a ]',
  ]);
  t.same(issues(['listeners:', '\t- name: a']), [
    'config.yaml:2:1 invalid YAML: tabs are not allowed as indentation',
  ]);
  t.same(issues([...base, '---', 'x: 1']), [
    'config.yaml:12:1 invalid YAML: the config must be a single YAML document; remove this "---" and what follows',
  ]);
  t.end();
});

void t.test('repeated keys are errors that point at both copies', (t) => {
  t.same(issues(edit(3, '    address: 0.0.0.0:8080', '    name: private')), [
    'config.yaml:4:5 listeners[0].name: duplicate key "name" (first at line 2)',
  ]);
  t.same(issues([...base, 'routes: []']), [
    'config.yaml:12:1 routes: duplicate key "routes" (first at line 4)',
    'config.yaml:12:9 routes: must list at least 1 item',
  ]);
  t.end();
});

void t.test('dangling aliases and unknown tags', (t) => {
  t.same(issues(edit(11, '      - *backend')), [
    'config.yaml:11:9 clusters[0].endpoints[0]: unknown alias *backend: define the anchor &backend before using it',
  ]);
  t.same(issues(edit(11, '      - !ip 10.0.0.7:50051')), [
    'config.yaml:11:9 invalid YAML: unresolved tag: !ip',
  ]);
  t.same(issues(edit(11, '      - &ep 10.0.0.7:50051', '      - *ep')), [], 'aliases work');
  t.end();
});

void t.test('empty and non-mapping documents', (t) => {
  const empty = 'config is empty; expected a mapping with listeners, routes and clusters';
  t.same(issues([]), [`config.yaml:1:1 ${empty}`]);
  t.same(issues(['# nothing yet']), [`config.yaml:1:1 ${empty}`]);
  t.same(issues(['- listeners']), ['config.yaml:1:1 expected mapping, got a list']);
  t.end();
});

void t.test('unknown keys point at the key and suggest the closest known one', (t) => {
  t.same(
    issues(edit(10, '    endpoint:')),
    ['config.yaml:10:5 clusters[0].endpoint: unknown key "endpoint" (did you mean "endpoints"?)'],
    'the missing "endpoints" is not reported again',
  );
  // The list grows with the schema, so only its start is pinned here.
  const [tracing, ...more] = issues([...base, 'tracing: {}']);
  t.match(
    tracing,
    /^config\.yaml:12:1 tracing: unknown key "tracing" \(allowed: admin, listeners, /,
  );
  t.same(more, []);
  t.same(issues(edit(6, '    match:', '      headers:', '        X-Tenant: acme')), [
    'config.yaml:8:9 routes[0].match.headers["X-Tenant"]: key "X-Tenant" is not allowed: keys must match ^[a-z0-9_.-]+$ (did you mean "x-tenant"?)',
  ]);
  t.end();
});

void t.test('missing keys are reported at the object that lacks them', (t) => {
  t.same(issues(edit(7)), ['config.yaml:5:5 routes[0]: route "all" needs cluster or clusters']);
  t.same(issues(base.slice(0, 7)), ['config.yaml:1:1 missing required key "clusters"']);
  t.end();
});

void t.test('type, format, range and pattern messages', (t) => {
  t.same(issues(edit(3, '    address: 8080')), [
    'config.yaml:3:14 listeners[0].address: expected host:port, got integer 8080',
  ]);
  t.same(issues(edit(3, '    address: 0.0.0.0:99999')), [
    'config.yaml:3:14 listeners[0].address: expected host:port',
  ]);
  t.same(issues(edit(11, '      - 10.0.0.7:0')), [
    'config.yaml:11:9 clusters[0].endpoints[0]: expected host:port (port 1-65535)',
  ]);
  t.same(issues([...base, '    connect_timeout: 5']), [
    'config.yaml:12:22 clusters[0].connect_timeout: expected a duration such as 250ms, 5s or 1m, got integer 5',
  ]);
  t.same(issues([...base, '    connect_timeout: 5 seconds']), [
    'config.yaml:12:22 clusters[0].connect_timeout: expected a duration such as 250ms, 5s or 1m',
  ]);
  t.same(
    issues(
      edit(3, '    address: 0.0.0.0:8080', '    limits:', '      max_header_list_size: 16384'),
    ),
    [
      'config.yaml:5:29 listeners[0].limits.max_header_list_size: expected a byte size such as 64KiB or 16MiB; quote it: "16384"',
    ],
  );
  t.same(
    issues(
      edit(3, '    address: 0.0.0.0:8080', '    limits:', '      max_header_list_size: 16 MB'),
    ),
    [
      'config.yaml:5:29 listeners[0].limits.max_header_list_size: expected a byte size such as 64KiB or 16MiB',
    ],
  );
  t.same(issues(edit(2, '  - name: public api')), [
    'config.yaml:2:11 listeners[0].name: invalid name "public api": expected letters, digits, "_", "." and "-", starting with a letter or digit',
  ]);
  t.same(issues(edit(6, '    match: { prefix: pkg }')), [
    'config.yaml:6:22 routes[0].match.prefix: invalid prefix "pkg": expected request path prefix, e.g. /pkg. or /',
  ]);
  t.same(issues(edit(11, '      - address: 10.0.0.7:50051', '        weight: 0')), [
    'config.yaml:12:17 clusters[0].endpoints[0].weight: must be at least 1',
  ]);
  t.same(issues(edit(11, '      - address: 10.0.0.7:50051', '        weight: "2"')), [
    'config.yaml:12:17 clusters[0].endpoints[0].weight: expected integer, got string "2"',
  ]);
  t.same(issues([...base.slice(0, 9), '    endpoints: []']), [
    'config.yaml:10:16 clusters[0].endpoints: must list at least 1 item',
  ]);
  t.same(issues([...base.slice(0, 10), '      -']), [
    'config.yaml:11:8 clusters[0].endpoints[0]: expected "host:port" shorthand, {address: host:port, weight: N}, or {dns: name:port, refresh: 5s, weight: N}, got an empty value',
  ]);
  t.same(
    issues(base.slice(0, 10)),
    ['config.yaml:10:5 clusters[0].endpoints: expected list, got an empty value'],
    'an empty value points at its key',
  );
  t.end();
});

void t.test('unions collapse to the branch the value was meant for', (t) => {
  t.same(
    issues(edit(11, '      - 10.0.0.7')),
    ['config.yaml:11:9 clusters[0].endpoints[0]: expected host:port (port 1-65535)'],
    'a string endpoint gets only the string branch error',
  );
  t.same(
    issues(edit(11, '      - { address: 10.0.0.7, weight: 2 }')),
    ['config.yaml:11:20 clusters[0].endpoints[0].address: expected host:port (port 1-65535)'],
    'an object endpoint gets only the object branch error',
  );
  t.same(
    issues(edit(11, '      - 42')),
    [
      'config.yaml:11:9 clusters[0].endpoints[0]: expected "host:port" shorthand, {address: host:port, weight: N}, or {dns: name:port, refresh: 5s, weight: N}, got integer 42',
    ],
    'a value matching no branch gets the union description',
  );
  t.same(
    issues(edit(11, '      - { dns: backends.internal:50051, refersh: 1s }')),
    [
      'config.yaml:11:41 clusters[0].endpoints[0].refersh: unknown key "refersh" (did you mean "refresh"?)',
    ],
    'a dns endpoint gets only the dns branch errors',
  );
  t.same(
    issues(edit(11, '      - { address: 10.0.0.7:50051, weigth: 2 }')),
    [
      'config.yaml:11:36 clusters[0].endpoints[0].weigth: unknown key "weigth" (did you mean "weight"?)',
    ],
    'an address endpoint still gets only the address branch errors',
  );
  t.same(
    issues(edit(11, '      - { weight: 2 }')),
    ['config.yaml:11:9 clusters[0].endpoints[0]: missing required key "address" or "dns"'],
    'a mapping with neither identifying key says so once',
  );
  t.same(
    issues(edit(11, '      - { address: 10.0.0.7:50051, dns: backends.internal:50051 }')),
    ['config.yaml:11:9 clusters[0].endpoints[0]: give one of "address" or "dns", not both'],
    'both identifying keys: one message',
  );
  t.same(
    issues(edit(3, '    address: 0.0.0.0:8080', '    x_forwarded_for: replace')),
    ['config.yaml:4:22 listeners[0].x_forwarded_for: expected one of: append, off'],
    'a union of literals is one message',
  );
  t.same(issues([...base, '    lb_policy: least_connections']), [
    'config.yaml:12:16 clusters[0].lb_policy: expected one of: round_robin, least_request, random, ring_hash, pick_first',
  ]);
  t.end();
});

void t.test('names must be unique within each section', (t) => {
  t.same(issues([...base, '  - name: backends', '    endpoints: [10.0.0.8:50051]']), [
    'config.yaml:12:11 clusters[1].name: duplicate cluster name "backends" (first at line 9)',
  ]);
  t.same(
    issues(
      edit(7, '    cluster: backends', '  - name: all', '    match: {}', '    cluster: backends'),
    ),
    ['config.yaml:8:11 routes[1].name: duplicate route name "all" (first at line 5)'],
  );
  t.same(
    issues(edit(3, '    address: 0.0.0.0:8080', '  - name: public', '    address: 0.0.0.0:8081')),
    ['config.yaml:4:11 listeners[1].name: duplicate listener name "public" (first at line 2)'],
  );
  t.end();
});

void t.test('routes must name an existing cluster', (t) => {
  t.same(issues(edit(7, '    cluster: backend')), [
    'config.yaml:7:14 routes[0].cluster: unknown cluster "backend"; clusters are: backends',
  ]);
  t.same(
    issues([...base.slice(0, 8), '  - endpoints: [10.0.0.7:50051]']),
    ['config.yaml:9:5 clusters[0]: missing required key "name"'],
    'not reported while a cluster has no name: it may be the one meant',
  );
  t.end();
});

void t.test('listeners may not share a port', (t) => {
  const withListener = (address: string): string[] =>
    edit(3, '    address: 0.0.0.0:8080', '  - name: other', `    address: ${address}`);
  t.same(issues(withListener('0.0.0.0:8080')), [
    'config.yaml:5:14 listeners[1].address: duplicate address "0.0.0.0:8080" (first at line 3)',
  ]);
  t.same(issues(withListener('127.0.0.1:8080')), [
    'config.yaml:5:14 listeners[1].address: address "127.0.0.1:8080" overlaps "0.0.0.0:8080" (line 3)',
  ]);
  t.same(issues(withListener('"[::]:8080"')), [
    'config.yaml:5:14 listeners[1].address: address "[::]:8080" overlaps "0.0.0.0:8080" (line 3)',
  ]);
  t.same(issues(withListener('0.0.0.0:8081')), []);
  t.same(issues(withListener('"[::1]:8080"')), [], 'IPv6 loopback is not covered by 0.0.0.0');
  t.same(
    issues(['admin:', '  address: 127.0.0.1:8080', ...base]),
    [
      'config.yaml:5:14 listeners[0].address: address "0.0.0.0:8080" overlaps "127.0.0.1:8080" (line 2)',
    ],
    'the admin endpoint counts too',
  );
  t.same(
    issues(edit(3, '    address: 127.0.0.1:0', '  - name: other', '    address: 127.0.0.1:0')),
    [],
    'port 0 never conflicts',
  );
  t.end();
});

void t.test('TLS files resolve against the config directory and must be readable', async (t) => {
  const dir = t.testdir({
    'config.yaml': [
      ...edit(
        3,
        '    address: 0.0.0.0:8443',
        '    tls:',
        '      cert: certs/server.crt',
        '      key: certs/server.key',
      ),
    ].join('\n'),
    certs: { 'server.crt': 'certificate', 'server.key': 'key' },
    broken: {
      'config.yaml': edit(
        3,
        '    address: 0.0.0.0:8443',
        '    tls:',
        '      cert: ../certs',
        '      key: missing.key',
      ).join('\n'),
    },
  });
  const config = await loadConfigFile(join(dir, 'config.yaml'));
  t.same(config.listeners[0]?.tls, {
    cert: join(dir, 'certs', 'server.crt'),
    key: join(dir, 'certs', 'server.key'),
  });

  t.same(await loadIssues(join(dir, 'broken', 'config.yaml')), [
    {
      file: join(dir, 'broken', 'config.yaml'),
      line: 5,
      col: 13,
      path: 'listeners[0].tls.cert',
      message: `cannot read TLS certificate ${join(dir, 'certs')}: not a regular file`,
    },
    {
      file: join(dir, 'broken', 'config.yaml'),
      line: 6,
      col: 12,
      path: 'listeners[0].tls.key',
      message: `cannot read TLS private key ${join(dir, 'broken', 'missing.key')}: ENOENT: no such file or directory`,
    },
  ]);
});

void t.test('a config file that cannot be read', async (t) => {
  const dir = t.testdir({});
  const missing = join(dir, 'nope.yaml');
  await t.rejects(loadConfigFile(missing), {
    name: 'ConfigError',
    message: `${missing}:1:1 cannot read config: ENOENT: no such file or directory`,
  });
  mkdirSync(join(dir, 'a-directory'));
  t.same(await loadIssues(join(dir, 'a-directory')), [
    {
      file: join(dir, 'a-directory'),
      line: 1,
      col: 1,
      path: '',
      message: 'cannot read config: EISDIR: illegal operation on a directory',
    },
  ]);
});

void t.test('schema and semantic issues are reported together', (t) => {
  t.same(issues(edit(7, '    cluster: nowhere', '    clustr: backends')), [
    'config.yaml:7:14 routes[0].cluster: unknown cluster "nowhere"; clusters are: backends',
    'config.yaml:8:5 routes[0].clustr: unknown key "clustr" (did you mean "cluster"?)',
  ]);
  t.end();
});
