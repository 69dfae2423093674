// A TLS listener end to end: grpc-js with a CA-verified TLS channel calls
// through the proxy to a cleartext echo backend; the listener speaks only h2.
import http2 from 'node:http2';
import tls from 'node:tls';
import * as grpc from '@grpc/grpc-js';
import t from 'tap';
import { Switchyard } from '../../src/app/switchyard.js';
import type { Config } from '../../src/config/schema.js';
import type { TestContext } from '../helpers/context.js';
import { startEchoBackend, type EchoBackend } from '../helpers/echo-backend.js';
import { echoClientMethods, type EchoReply, type EchoRequestInit } from '../helpers/echo-proto.js';
import { testPki } from '../helpers/test-certs.js';

const PKI = testPki();
const CERT_PATH = PKI.server.certPath;
const KEY_PATH = PKI.server.keyPath;
const CA_PEM = PKI.ca.cert;

interface Setup {
  readonly backend: EchoBackend;
  readonly proxy: Switchyard;
  readonly port: number;
}

async function setup(t: TestContext): Promise<Setup> {
  const backend = await startEchoBackend('tls-backend');
  t.teardown(() => backend.close());
  const config: Config = {
    listeners: [
      { name: 'secure', address: '127.0.0.1:0', tls: { cert: CERT_PATH, key: KEY_PATH } },
    ],
    routes: [{ name: 'echo', match: { service: 'switchyard.test.Echo' }, cluster: 'echo' }],
    clusters: [{ name: 'echo', endpoints: [backend.address] }],
  };
  const proxy = await Switchyard.start(config);
  t.teardown(() => proxy.close(0));
  return { backend, proxy, port: proxy.listenerAddress('secure').port };
}

function unary(client: grpc.Client, request: EchoRequestInit): Promise<EchoReply> {
  const method = echoClientMethods.Unary;
  return new Promise((resolve, reject) => {
    client.makeUnaryRequest(
      method.path,
      method.requestSerialize,
      method.responseDeserialize,
      request,
      (error, reply) => {
        if (error !== null) reject(error);
        else if (reply === undefined) reject(new Error('no reply'));
        else resolve(reply);
      },
    );
  });
}

interface RawTlsOutcome {
  /** The handshake completed (secureConnect fired). */
  readonly handshake: boolean;
  readonly alpn: string | false | null | undefined;
  /** Everything the server sent after the handshake. */
  readonly received: string;
  readonly error: Error | undefined;
}

/**
 * Opens a raw TLS connection offering `alpn` (no ALPN extension when empty),
 * writes an HTTP/1.1 request (unless told not to) once the handshake is done, and reports what
 * happened once the server ended or closed the connection.
 */
function rawTls(port: number, alpn: string[], sendRequest = true): Promise<RawTlsOutcome> {
  return new Promise((resolve) => {
    let handshake = false;
    let alpnProtocol: string | false | null | undefined;
    let received = '';
    let error: Error | undefined;
    const socket = tls.connect({
      host: '127.0.0.1',
      port,
      ca: CA_PEM,
      servername: 'localhost',
      ...(alpn.length > 0 ? { ALPNProtocols: alpn } : {}),
    });
    socket.setEncoding('utf8');
    socket.on('secureConnect', () => {
      handshake = true;
      alpnProtocol = socket.alpnProtocol;
      if (sendRequest)
        socket.write('GET / HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n');
    });
    socket.on('data', (chunk: string) => {
      received += chunk;
    });
    socket.on('error', (e: Error) => {
      error = e;
    });
    // The server ending its side is enough: what it sent is all there is.
    // (Waiting for 'close' could take node's 10 s unknownProtocolTimeout.)
    const done = (): void => {
      socket.destroy();
      resolve({ handshake, alpn: alpnProtocol, received, error });
    };
    socket.once('end', done);
    socket.once('close', done);
  });
}

void t.test('a gRPC call over TLS reaches the backend', async (t) => {
  const { backend, port } = await setup(t);
  const targets: { name: string; target: string; options: grpc.ChannelOptions }[] = [
    // No "by IP" case: grpc-js then sets the TLS servername to the IP, which
    // Node 26 rejects (ERR_INVALID_ARG_VALUE) before any byte is sent.
    {
      name: 'by name via ssl_target_name_override',
      target: `127.0.0.1:${port}`,
      options: {
        'grpc.ssl_target_name_override': 'localhost',
        'grpc.default_authority': 'localhost',
      },
    },
  ];
  let expectedCalls = 0;
  for (const target of targets) {
    const client = new grpc.Client(
      target.target,
      grpc.credentials.createSsl(CA_PEM),
      target.options,
    );
    t.teardown(() => client.close());
    const reply = await unary(client, { message: `hello over ${target.name}` });
    expectedCalls += 1;
    t.equal(reply.backend, 'tls-backend', `${target.name}: served by the backend`);
    t.equal(reply.message, `hello over ${target.name}`, `${target.name}: echoed`);
    t.equal(backend.calls, expectedCalls, `${target.name}: the backend counted the call`);
  }
});

void t.test('a client that does not trust the CA is refused', async (t) => {
  const { backend, port } = await setup(t);
  const client = new grpc.Client(`127.0.0.1:${port}`, grpc.credentials.createSsl(), {
    'grpc.ssl_target_name_override': 'localhost',
  });
  t.teardown(() => client.close());
  await t.rejects(unary(client, { message: 'untrusted' }), { code: grpc.status.UNAVAILABLE });
  t.equal(backend.calls, 0, 'nothing reached the backend');
});

void t.test('an h2 client negotiates ALPN h2', async (t) => {
  const { port } = await setup(t);
  const session = http2.connect(`https://localhost:${port}`, {
    ca: CA_PEM,
    host: '127.0.0.1',
    servername: 'localhost',
  });
  t.teardown(() => session.close());
  await new Promise<void>((resolve, reject) => {
    session.once('connect', () => resolve());
    session.once('error', reject);
  });
  t.equal(session.alpnProtocol, 'h2');
  t.equal(session.encrypted, true);

  const raw = await rawTls(port, ['h2']);
  t.equal(raw.handshake, true, 'raw TLS offering h2 completes the handshake');
  t.equal(raw.alpn, 'h2');
});

void t.test('a TLS client offering only http/1.1 gets no HTTP/1.1 response', async (t) => {
  const { backend, port } = await setup(t);
  const outcome = await rawTls(port, ['http/1.1']);
  t.comment(
    `handshake=${String(outcome.handshake)} alpn=${String(outcome.alpn)} ` +
      `error=${outcome.error?.message ?? 'none'} received=${JSON.stringify(outcome.received)}`,
  );
  // h2-only: either the server refuses the handshake (node answers an ALPN
  // mismatch with the no_application_protocol alert), or it completes
  // without negotiating http/1.1 and closes the socket. Either way the
  // HTTP/1.1 request written after the handshake gets no answer at all.
  if (outcome.handshake) {
    t.not(outcome.alpn, 'http/1.1', 'http/1.1 is never negotiated');
  } else {
    t.ok(outcome.error !== undefined, 'the refused handshake surfaces as an error');
  }
  t.equal(outcome.received, '', 'no response bytes, so no HTTP/1.1 status line');
  t.equal(backend.calls, 0, 'nothing reached the backend');
});

void t.test('a TLS client offering no ALPN is not served HTTP/1.1 either', async (t) => {
  const { backend, port } = await setup(t);
  // No request is written here: node:http2 answers right after the handshake,
  // and unread request bytes would keep the server socket (and so the
  // proxy's close in teardown) open for 10 s: see listener-close.test.ts.
  const outcome = await rawTls(port, [], false);
  t.comment(`handshake=${String(outcome.handshake)} received=${JSON.stringify(outcome.received)}`);
  // node:http2 completes this handshake (nothing to negotiate), then, with no
  // HTTP/1 fallback, writes a short HTTP/1.0 403 notice and ends the socket.
  t.not(outcome.alpn, 'http/1.1', 'http/1.1 is never negotiated');
  t.notMatch(outcome.received, /^HTTP\/1\.1 /, 'no HTTP/1.1 status line');
  t.equal(backend.calls, 0, 'nothing reached the backend');
});

void t.test('a TLS 1.1 client is refused (minimum TLS 1.2)', async (t) => {
  const { backend, port } = await setup(t);
  const attempt = (maxVersion: tls.SecureVersion): Promise<Error | undefined> =>
    new Promise((resolve) => {
      const socket = tls.connect({
        host: '127.0.0.1',
        port,
        ca: CA_PEM,
        servername: 'localhost',
        ALPNProtocols: ['h2'],
        minVersion: 'TLSv1',
        maxVersion,
        // OpenSSL 3's default security level would keep the client from offering TLS 1.1.
        ciphers: 'DEFAULT@SECLEVEL=0',
      });
      socket.once('secureConnect', () => {
        socket.destroy();
        resolve(undefined);
      });
      socket.once('error', (error: Error) => {
        socket.destroy();
        resolve(error);
      });
    });
  const refused = await attempt('TLSv1.1');
  t.ok(refused !== undefined, 'the TLS 1.1 handshake fails');
  t.match(refused?.message ?? '', /protocol version|unsupported protocol/i, 'for its version');
  // Control: the same client allowed TLS 1.2 gets through, so the refusal is the version's.
  t.equal(await attempt('TLSv1.2'), undefined, 'the same client at TLS 1.2 connects');
  t.equal(backend.calls, 0);
});
