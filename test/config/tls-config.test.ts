// TLS config beyond a listener's cert and key: a listener's `client_ca` and a
// cluster's `tls` resolve against the config file's directory, must be
// readable (reported at file:line:col), and a client cert needs its key.
import { join } from 'node:path';
import t from 'tap';
import { ConfigError, formatIssue } from '../../src/config/config-error.js';
import { loadConfigFile } from '../../src/config/load-config.js';
import { issues, SMALL_CONFIG } from '../helpers/config-lines.js';

async function loadIssues(file: string): Promise<string[]> {
  try {
    await loadConfigFile(file);
  } catch (error) {
    if (error instanceof ConfigError) return error.issues.map(formatIssue);
    throw error;
  }
  throw new Error(`${file} loaded, but issues were expected`);
}

const LISTENER_TLS = [
  'listeners:',
  '  - name: public',
  '    address: 0.0.0.0:8443',
  '    tls:',
  '      cert: certs/server.crt',
  '      key: certs/server.key',
  '      client_ca: certs/clients.pem',
];

const CLUSTER_TLS = [
  ...SMALL_CONFIG.slice(3),
  '    tls:',
  '      ca: certs/backends.pem',
  '      cert: certs/proxy.crt',
  '      key: certs/proxy.key',
  '      server_name: backend.internal',
];

const CERTS = {
  'server.crt': 'c',
  'server.key': 'k',
  'clients.pem': 'ca',
  'backends.pem': 'ca',
  'proxy.crt': 'c',
  'proxy.key': 'k',
};

void t.test('client_ca and cluster tls paths resolve against the config directory', async (t) => {
  const dir = t.testdir({
    'config.yaml': [...LISTENER_TLS, ...CLUSTER_TLS].join('\n'),
    certs: CERTS,
  });
  const config = await loadConfigFile(join(dir, 'config.yaml'));
  t.same(config.listeners[0]?.tls, {
    cert: join(dir, 'certs', 'server.crt'),
    key: join(dir, 'certs', 'server.key'),
    client_ca: join(dir, 'certs', 'clients.pem'),
  });
  t.same(config.clusters[0]?.tls, {
    ca: join(dir, 'certs', 'backends.pem'),
    cert: join(dir, 'certs', 'proxy.crt'),
    key: join(dir, 'certs', 'proxy.key'),
    server_name: 'backend.internal',
  });
});

void t.test('unreadable client_ca and cluster tls files are reported where written', async (t) => {
  const dir = t.testdir({ 'config.yaml': [...LISTENER_TLS, ...CLUSTER_TLS].join('\n'), certs: {} });
  const file = join(dir, 'config.yaml');
  const missing = (name: string): string =>
    `${join(dir, 'certs', name)}: ENOENT: no such file or directory`;
  t.same(await loadIssues(file), [
    `${file}:5:13 listeners[0].tls.cert: cannot read TLS certificate ${missing('server.crt')}`,
    `${file}:6:12 listeners[0].tls.key: cannot read TLS private key ${missing('server.key')}`,
    `${file}:7:18 listeners[0].tls.client_ca: cannot read TLS client CA ${missing('clients.pem')}`,
    `${file}:17:11 clusters[0].tls.ca: cannot read upstream TLS CA ${missing('backends.pem')}`,
    `${file}:18:13 clusters[0].tls.cert: cannot read upstream TLS client certificate ${missing('proxy.crt')}`,
    `${file}:19:12 clusters[0].tls.key: cannot read upstream TLS client key ${missing('proxy.key')}`,
  ]);
});

void t.test('a cluster client certificate needs its key, and the other way round', async (t) => {
  const dir = t.testdir({
    'cert-only.yaml': [...SMALL_CONFIG, '    tls:', '      cert: proxy.crt'].join('\n'),
    'key-only.yaml': [...SMALL_CONFIG, '    tls:', '      key: proxy.key'].join('\n'),
    'proxy.crt': 'c',
    'proxy.key': 'k',
  });
  t.same(await loadIssues(join(dir, 'cert-only.yaml')), [
    `${join(dir, 'cert-only.yaml')}:13:7 clusters[0].tls.cert: upstream TLS cert needs key too (a client certificate and its key go together)`,
  ]);
  t.same(await loadIssues(join(dir, 'key-only.yaml')), [
    `${join(dir, 'key-only.yaml')}:13:7 clusters[0].tls.key: upstream TLS key needs cert too (a client certificate and its key go together)`,
  ]);
});

void t.test('cluster tls keys are checked by the schema', (t) => {
  t.same(issues([...SMALL_CONFIG, '    tls:', '      server_nam: x']), [
    'config.yaml:13:7 clusters[0].tls.server_nam: unknown key "server_nam" (did you mean "server_name"?)',
  ]);
  t.same(issues([...SMALL_CONFIG, '    tls:', '      insecure_skip_verify: "no"']), [
    'config.yaml:13:29 clusters[0].tls.insecure_skip_verify: expected boolean, got string "no"',
  ]);
  t.same(issues([...SMALL_CONFIG, '    tls: {}']), [], 'tls with every default: system roots');
  t.end();
});
