// Upstream TLS per cluster (`clusters[].tls`), against real grpc-js TLS
// backends: server verification (by IP SAN, by name, by server_name), mTLS
// to backends that require client certificates, refusals that surface to the
// client as UNAVAILABLE and in the log with their reason, and health checks
// (grpc, http) that connect with the cluster's TLS settings too.
import https from 'node:https';
import type { AddressInfo } from 'node:net';
import { TLSSocket } from 'node:tls';
import * as grpc from '@grpc/grpc-js';
import t from 'tap';
import { Switchyard } from '../../src/app/switchyard.js';
import type { ClusterConfig, UpstreamTlsConfig } from '../../src/config/schema.js';
import { validateConfigSchema } from '../../src/config/schema-validator.js';
import type { TestContext } from '../helpers/context.js';
import { startEchoBackend, type EchoBackend } from '../helpers/echo-backend.js';
import { echoClient, serviceError, type EchoClient } from '../helpers/echo-client.js';
import { HealthControl } from '../helpers/health-backend.js';
import { captureLog, type CapturedLog } from '../helpers/log-capture.js';
import { proxyConfig } from '../helpers/proxy.js';
import { testPki, type Issued } from '../helpers/test-certs.js';

const PKI = testPki();

interface TlsBackendOptions {
  /** The backend's certificate; the trusted CA's localhost/127.0.0.1 one by default. */
  readonly identity?: Issued;
  /** Require a client certificate signed by the trusted CA. */
  readonly requireClientCert?: boolean;
  readonly health?: HealthControl;
}

async function tlsBackend(
  t: TestContext,
  id: string,
  options: TlsBackendOptions = {},
): Promise<EchoBackend> {
  const identity = options.identity ?? PKI.server;
  const backend = await startEchoBackend(id, {
    credentials: grpc.ServerCredentials.createSsl(
      options.requireClientCert === true ? PKI.ca.cert : null,
      [{ cert_chain: identity.cert, private_key: identity.key }],
      options.requireClientCert === true,
    ),
    ...(options.health === undefined ? {} : { services: [options.health] }),
  });
  t.teardown(() => backend.close());
  return backend;
}

interface Proxied {
  readonly client: EchoClient;
  readonly log: CapturedLog;
  readonly proxy: Switchyard;
}

async function proxyTo(
  t: TestContext,
  endpoint: string,
  tls: UpstreamTlsConfig,
  cluster: Partial<ClusterConfig> = {},
): Promise<Proxied> {
  const config = proxyConfig([endpoint], { cluster: { tls, ...cluster } });
  if (!validateConfigSchema(config)) throw new Error('test config does not match the schema');
  const log = captureLog('warn');
  const proxy = await Switchyard.start(config, { logger: log.logger });
  t.teardown(() => proxy.close(0));
  const client = echoClient(`127.0.0.1:${String(proxy.listenerAddress('main').port)}`);
  t.teardown(() => client.close());
  return { client, log, proxy };
}

const TRUST = { ca: PKI.ca.certPath };
const CLIENT_IDENTITY = { ...TRUST, cert: PKI.client.certPath, key: PKI.client.keyPath };

void t.test('TLS to a backend by IP: verified against its IP SAN', async (t) => {
  const backend = await tlsBackend(t, 'tls-ip');
  const { client } = await proxyTo(t, backend.address, TRUST);
  const { reply } = await client.unary({ message: 'over tls' });
  t.equal(reply.backend, 'tls-ip');
  t.equal(reply.message, 'over tls');
  t.equal(backend.calls, 1);
});

void t.test('TLS to a backend by name, and with server_name', async (t) => {
  const backend = await tlsBackend(t, 'tls-name');
  const byName = await proxyTo(t, `localhost:${String(backend.port)}`, TRUST);
  t.equal((await byName.client.unary({ message: 'by name' })).reply.backend, 'tls-name');
  const override = await proxyTo(t, backend.address, { ...TRUST, server_name: 'localhost' });
  t.equal((await override.client.unary({ message: 'sni' })).reply.backend, 'tls-name');
  t.equal(backend.calls, 2);
});

void t.test('a server_name the certificate does not carry is refused', async (t) => {
  const backend = await tlsBackend(t, 'tls-wrong-name');
  const { client, log } = await proxyTo(t, backend.address, {
    ...TRUST,
    server_name: 'not-the-backend.example',
  });
  const error = await serviceError(client.unary({ message: 'x' }));
  t.equal(error.code, grpc.status.UNAVAILABLE);
  const line = await log.waitFor((l) => l['msg'] === 'upstream TLS failed');
  t.match(line['reason'], /^certificate verify failed: .*not-the-backend\.example/);
  t.equal(backend.calls, 0);
});

void t.test('mTLS to a backend that requires client certificates', async (t) => {
  const backend = await tlsBackend(t, 'mtls', { requireClientCert: true });
  const { client } = await proxyTo(t, backend.address, CLIENT_IDENTITY);
  t.equal((await client.unary({ message: 'with cert' })).reply.backend, 'mtls');
  t.equal(backend.calls, 1);
});

void t.test('a backend with a certificate from another CA is refused and logged', async (t) => {
  const backend = await tlsBackend(t, 'stranger', { identity: PKI.otherServer });
  const { client, log } = await proxyTo(t, backend.address, TRUST);
  const error = await serviceError(client.unary({ message: 'x' }));
  t.equal(error.code, grpc.status.UNAVAILABLE, 'the client gets UNAVAILABLE');
  t.match(error.details, /certificate|issuer/i, 'the status message says why');
  const line = await log.waitFor((l) => l['msg'] === 'upstream TLS failed');
  t.equal(line['level'], 40, 'a warning');
  t.equal(line['endpoint'], backend.address);
  t.match(line['reason'], /^certificate verify failed: /);
  t.equal(backend.calls, 0);
});

void t.test('insecure_skip_verify accepts a certificate from another CA', async (t) => {
  const backend = await tlsBackend(t, 'unverified', { identity: PKI.otherServer });
  const { client, log } = await proxyTo(t, backend.address, { insecure_skip_verify: true });
  t.equal((await client.unary({ message: 'x' })).reply.backend, 'unverified');
  await log.waitFor(
    (l) => l['msg'] === 'tls.insecure_skip_verify: backend certificates are not verified',
  );
});

void t.test('a backend requiring client certificates refuses a proxy without one', async (t) => {
  const backend = await tlsBackend(t, 'mtls-only', { requireClientCert: true });
  const { client, log } = await proxyTo(t, backend.address, TRUST);
  const error = await serviceError(client.unary({ message: 'x' }));
  t.equal(error.code, grpc.status.UNAVAILABLE);
  t.equal(backend.calls, 0);
  const line = await log.waitFor((l) => l['msg'] === 'upstream TLS failed');
  t.match(line['reason'], /client certificates, set the cluster’s tls\.cert and tls\.key/);
});

void t.test('a cleartext cluster does not speak TLS to a TLS backend', async (t) => {
  // Control for the cases above: without `tls` the same backend is unreachable.
  const backend = await tlsBackend(t, 'tls-only');
  const config = proxyConfig([backend.address]);
  const proxy = await Switchyard.start(config);
  t.teardown(() => proxy.close(0));
  const client = echoClient(`127.0.0.1:${String(proxy.listenerAddress('main').port)}`);
  t.teardown(() => client.close());
  const error = await serviceError(client.unary({ message: 'x' }));
  t.equal(error.code, grpc.status.UNAVAILABLE);
});

void t.test('grpc health checks use the cluster TLS (mTLS too)', async (t) => {
  const health = new HealthControl();
  const backend = await tlsBackend(t, 'checked', { requireClientCert: true, health });
  const { client, proxy } = await proxyTo(t, backend.address, CLIENT_IDENTITY, {
    health_check: { grpc: {}, interval: '1s', timeout: '2s' },
  });
  const cluster = proxy.cluster('echo');
  if (cluster === undefined) throw new Error('no cluster echo');
  await cluster.whenHealthChecked();
  t.ok(health.checks >= 1, 'the backend answered a check over mTLS');
  const endpoint = cluster.endpoints[0];
  t.equal(endpoint?.available, true, 'the endpoint passed its first check');
  t.equal((await client.unary({ message: 'after check' })).reply.backend, 'checked');
});

void t.test('http health checks probe over HTTPS with the cluster TLS', async (t) => {
  const backend = await tlsBackend(t, 'http-checked');
  let probes = 0;
  const probe = https.createServer(
    { cert: PKI.server.cert, key: PKI.server.key, ca: PKI.ca.cert, requestCert: true },
    (request, response) => {
      probes++;
      const authorized = request.socket instanceof TLSSocket && request.socket.authorized;
      response.writeHead(authorized ? 200 : 403).end();
    },
  );
  await new Promise<void>((resolve) => probe.listen(0, '127.0.0.1', resolve));
  t.teardown(() => new Promise((resolve) => probe.close(resolve)));
  const { port } = probe.address() as AddressInfo;
  const { client, proxy } = await proxyTo(t, backend.address, CLIENT_IDENTITY, {
    health_check: { http: { path: '/healthz', port }, interval: '1s', timeout: '2s' },
  });
  const cluster = proxy.cluster('echo');
  if (cluster === undefined) throw new Error('no cluster echo');
  await cluster.whenHealthChecked();
  t.ok(probes >= 1, 'the probe reached the HTTPS server');
  t.equal(cluster.endpoints[0]?.available, true, 'a 200 with the client cert');
  t.equal((await client.unary({ message: 'after check' })).reply.backend, 'http-checked');
});
