// A reload that changes a cluster's `tls:` builds the cluster anew with new
// connections: a connection made under the old settings is not reused.
import { join } from 'node:path';
import * as grpc from '@grpc/grpc-js';
import t from 'tap';
import type { Config, UpstreamTlsConfig } from '../../src/config/schema.js';
import { startEchoBackend } from '../helpers/echo-backend.js';
import { echoClient, serviceError } from '../helpers/echo-client.js';
import { proxyConfig } from '../helpers/proxy.js';
import { adminRequest, startFileProxy, tempDir, writeConfig } from '../helpers/reload.js';
import { testPki } from '../helpers/test-certs.js';

const PKI = testPki();

function config(endpoint: string, tls: UpstreamTlsConfig): Config {
  return proxyConfig([endpoint], {
    cluster: { tls },
    config: { admin: { address: '127.0.0.1:0' } },
  });
}

void t.test('a tls change on reload takes effect for the next call', async (t) => {
  const backend = await startEchoBackend('tls-reload', {
    credentials: grpc.ServerCredentials.createSsl(
      null,
      [{ cert_chain: PKI.server.cert, private_key: PKI.server.key }],
      false,
    ),
  });
  t.teardown(() => backend.close());
  const path = join(await tempDir(t), 'config.yaml');
  await writeConfig(path, config(backend.address, { ca: PKI.ca.certPath }));
  const running = await startFileProxy(t, path);
  const client = echoClient(running.address);
  t.teardown(() => client.close());
  t.equal((await client.unary({ message: 'trusted' })).reply.backend, 'tls-reload');

  // The same endpoint, now verified for a name its certificate lacks: the
  // open, already verified connection must not carry the next call.
  await writeConfig(
    path,
    config(backend.address, { ca: PKI.ca.certPath, server_name: 'elsewhere.example' }),
  );
  t.equal((await adminRequest(running.admin, '/reload', 'POST')).status, 200);
  const error = await serviceError(client.unary({ message: 'wrong name' }));
  t.equal(error.code, grpc.status.UNAVAILABLE, 'the new settings apply at once');
  t.equal(backend.calls, 1);

  // And back: trusted again.
  await writeConfig(path, config(backend.address, { ca: PKI.ca.certPath }));
  t.equal((await adminRequest(running.admin, '/reload', 'POST')).status, 200);
  t.equal((await client.unary({ message: 'again' })).reply.backend, 'tls-reload');
});
