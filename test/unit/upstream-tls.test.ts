// Cluster `tls:` outside the data path: a reload treats a TLS change as a
// change that keeps no connection, admin /config redacts the client key,
// and TLS failures are described for the log.
import t from 'tap';
import { configView, REDACTED } from '../../src/admin/config-view.js';
import { reconcileClusters, shareEndpoints } from '../../src/app/reconcile-clusters.js';
import type { ClusterConfig, Config } from '../../src/config/schema.js';
import { silentLogger } from '../../src/log/logger.js';
import { Cluster } from '../../src/upstream/cluster.js';
import { describeTlsFailure, loadUpstreamTls } from '../../src/upstream/upstream-tls.js';
import { proxyConfig } from '../helpers/proxy.js';
import { testPki } from '../helpers/test-certs.js';

const PKI = testPki();

void t.test('a TLS change keeps no endpoint: connections were made with the old settings', (t) => {
  const base: ClusterConfig = { name: 'c', endpoints: ['127.0.0.1:1'] };
  const tls = { ca: PKI.ca.certPath };
  t.ok(shareEndpoints({ ...base, tls }, { ...base, tls: { ...tls } }), 'same tls: shared');
  t.notOk(shareEndpoints(base, { ...base, tls }), 'h2c to TLS');
  t.notOk(shareEndpoints({ ...base, tls }, base), 'TLS to h2c');
  t.notOk(
    shareEndpoints({ ...base, tls }, { ...base, tls: { ca: PKI.otherCa.certPath } }),
    'new CA',
  );
  t.notOk(
    shareEndpoints({ ...base, tls }, { ...base, tls: { ...tls, server_name: 'localhost' } }),
    'new server_name',
  );
  t.end();
});

void t.test('reconcile builds a new cluster with new endpoints when only tls changed', (t) => {
  const logger = silentLogger();
  const running: Config = proxyConfig(['127.0.0.1:2']);
  const next: Config = proxyConfig(['127.0.0.1:2'], {
    cluster: { tls: { ca: PKI.ca.certPath } },
  });
  const clusters = new Map(running.clusters.map((c) => [c.name, new Cluster(c, logger)]));
  const plan = reconcileClusters(
    { config: running, clusters },
    next,
    (c, adopt) => new Cluster(c, logger, adopt),
  );
  t.teardown(() => Promise.all([...clusters.values(), ...plan.added].map((c) => c.close())));
  const before = clusters.get('echo');
  const after = plan.clusters.get('echo');
  t.not(after, before, 'the cluster is rebuilt');
  t.not(after?.endpoints[0], before?.endpoints[0], 'its endpoint is not taken over');
  t.same(
    plan.commit().map((r) => [r.cluster.name, r.handedOver.size]),
    [['echo', 0]],
  );
  t.end();
});

void t.test('admin /config redacts a cluster tls key', (t) => {
  const config = proxyConfig(['127.0.0.1:1'], {
    cluster: { tls: { ca: '/etc/tls/ca.pem', cert: '/etc/tls/c.pem', key: '/etc/tls/k.pem' } },
  });
  const view = configView({ path: 'c.yaml', hash: 'abc', loadedAt: new Date(0), config });
  t.match(view.config, { clusters: [{ tls: { ca: '/etc/tls/ca.pem', key: REDACTED } }] });
  t.notMatch(JSON.stringify(view), /k\.pem/);
  t.end();
});

void t.test('loadUpstreamTls reads the files once; verification is on by default', (t) => {
  t.equal(loadUpstreamTls(undefined), undefined);
  t.same(loadUpstreamTls({}), { verify: true });
  const tls = loadUpstreamTls({
    ca: PKI.ca.certPath,
    cert: PKI.client.certPath,
    key: PKI.client.keyPath,
    server_name: 'backend',
    insecure_skip_verify: true,
  });
  t.same(tls, {
    ca: PKI.ca.cert,
    cert: PKI.client.cert,
    key: PKI.client.key,
    serverName: 'backend',
    verify: false,
  });
  t.throws(() => loadUpstreamTls({ ca: '/nonexistent/ca.pem' }), { code: 'ENOENT' });
  t.end();
});

void t.test('describeTlsFailure names verification and handshake failures only', (t) => {
  const coded = (message: string, code: string): Error =>
    Object.assign(new Error(message), { code });
  t.equal(
    describeTlsFailure(
      coded('unable to verify the first certificate', 'UNABLE_TO_VERIFY_LEAF_SIGNATURE'),
    ),
    'certificate verify failed: unable to verify the first certificate (UNABLE_TO_VERIFY_LEAF_SIGNATURE)',
  );
  t.match(
    describeTlsFailure(
      coded("Hostname/IP does not match certificate's altnames", 'ERR_TLS_CERT_ALTNAME_INVALID'),
    ),
    /^certificate verify failed: /,
  );
  t.match(
    describeTlsFailure(
      coded('alert certificate required', 'ERR_SSL_TLSV13_ALERT_CERTIFICATE_REQUIRED'),
    ),
    /^TLS handshake failed: the backend requires client certificates, set the cluster’s tls\.cert and tls\.key \(alert certificate required\)$/,
  );
  t.match(
    describeTlsFailure(coded('wrong version number', 'ERR_SSL_WRONG_VERSION_NUMBER')),
    /^TLS handshake failed: wrong version number/,
  );
  t.equal(describeTlsFailure(coded('connect ECONNREFUSED', 'ECONNREFUSED')), undefined);
  t.equal(describeTlsFailure(new Error('no code')), undefined);
  t.end();
});
