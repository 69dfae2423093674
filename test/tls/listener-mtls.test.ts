// mTLS on a listener (`tls.client_ca`): only clients presenting a
// certificate signed by that CA get through; the certificate's subject is in
// the access log line of each of their calls.
import tls from 'node:tls';
import * as grpc from '@grpc/grpc-js';
import t from 'tap';
import { startEchoBackend, type EchoBackend } from '../helpers/echo-backend.js';
import { echoClient, serviceError } from '../helpers/echo-client.js';
import { captureLog, type CapturedLog } from '../helpers/log-capture.js';
import { proxyConfig, startProxy } from '../helpers/proxy.js';
import type { TestContext } from '../helpers/context.js';
import { testPki, type Issued } from '../helpers/test-certs.js';

const PKI = testPki();
/** grpc-js verifies the proxy's certificate for this name (its SAN). */
const CHANNEL_OPTIONS: grpc.ChannelOptions = {
  'grpc.ssl_target_name_override': 'localhost',
  'grpc.default_authority': 'localhost',
};

interface Setup {
  readonly backend: EchoBackend;
  readonly address: string;
  readonly port: number;
  readonly access: CapturedLog;
}

async function setup(t: TestContext): Promise<Setup> {
  const backend = await startEchoBackend('mtls-backend');
  t.teardown(() => backend.close());
  const access = captureLog('info');
  const config = proxyConfig([backend.address], {
    listener: {
      tls: { cert: PKI.server.certPath, key: PKI.server.keyPath, client_ca: PKI.ca.certPath },
    },
  });
  const { address } = await startProxy(t, config, { accessLogger: access.logger });
  return { backend, address, port: Number(address.split(':')[1]), access };
}

function client(t: TestContext, address: string, identity: Issued | undefined) {
  const credentials =
    identity === undefined
      ? grpc.credentials.createSsl(PKI.ca.cert)
      : grpc.credentials.createSsl(PKI.ca.cert, identity.key, identity.cert);
  const c = echoClient(address, { credentials, channelOptions: CHANNEL_OPTIONS });
  t.teardown(() => c.close());
  return c;
}

/** A raw TLS handshake with `identity` (none: no certificate); the error the client saw, if any. */
function rawHandshake(port: number, identity: Issued | undefined): Promise<Error | undefined> {
  return new Promise((resolve) => {
    const socket = tls.connect({
      host: '127.0.0.1',
      port,
      ca: PKI.ca.cert,
      servername: 'localhost',
      ALPNProtocols: ['h2'],
      ...(identity === undefined ? {} : { cert: identity.cert, key: identity.key }),
    });
    let error: Error | undefined;
    socket.on('error', (e: Error) => {
      error = e;
    });
    // TLS 1.3: the client's handshake ends before the server has checked
    // its certificate; the server's verdict (an alert, or nothing) follows.
    // The server never writes first in h2 except its SETTINGS, so data means accepted.
    socket.once('data', () => {
      socket.destroy();
      resolve(undefined);
    });
    socket.once('close', () => resolve(error ?? new Error('closed without an alert')));
  });
}

void t.test('a client without a certificate is refused', async (t) => {
  const { backend, address, port } = await setup(t);
  const error = await serviceError(client(t, address, undefined).unary({ message: 'anon' }));
  t.equal(error.code, grpc.status.UNAVAILABLE, 'the call fails UNAVAILABLE');
  const raw = await rawHandshake(port, undefined);
  t.ok(raw !== undefined, 'the raw handshake fails');
  t.comment(`raw handshake error: ${raw?.message ?? 'none'}`);
  t.equal(backend.calls, 0, 'nothing reached the backend');
});

void t.test('a client with a certificate from another CA is refused', async (t) => {
  const { backend, address, port } = await setup(t);
  const error = await serviceError(
    client(t, address, PKI.otherClient).unary({ message: 'stranger' }),
  );
  t.equal(error.code, grpc.status.UNAVAILABLE, 'the call fails UNAVAILABLE');
  const raw = await rawHandshake(port, PKI.otherClient);
  t.ok(raw !== undefined, 'the raw handshake fails: no HTTP/2 SETTINGS arrive');
  t.comment(`raw handshake error: ${raw?.message ?? 'none'}`);
  t.equal(backend.calls, 0, 'nothing reached the backend');
});

void t.test('a client with a good certificate is served and named in the access log', async (t) => {
  const { backend, address, port, access } = await setup(t);
  const { reply } = await client(t, address, PKI.client).unary({ message: 'hello' });
  t.equal(reply.backend, 'mtls-backend');
  t.equal(reply.message, 'hello');
  t.equal(backend.calls, 1);
  t.equal(await rawHandshake(port, PKI.client), undefined, 'the raw handshake succeeds');
  const line = await access.waitFor((l) => l['msg'] === 'call');
  t.equal(line['client_subject'], 'O=Switchyard Tests, CN=test-client');
  t.equal(line['grpc_status'], 0);
});

void t.test('without client_ca no certificate is asked for and none is logged', async (t) => {
  const backend = await startEchoBackend('tls-backend');
  t.teardown(() => backend.close());
  const access = captureLog('info');
  const config = proxyConfig([backend.address], {
    listener: { tls: { cert: PKI.server.certPath, key: PKI.server.keyPath } },
  });
  const { address } = await startProxy(t, config, { accessLogger: access.logger });
  const { reply } = await client(t, address, undefined).unary({ message: 'anon' });
  t.equal(reply.backend, 'tls-backend', 'a client without a certificate is served');
  const line = await access.waitFor((l) => l['msg'] === 'call');
  t.notOk('client_subject' in line, 'no client_subject');
});
