// A TLS listener reloads its certificate when the files change: new
// connections get the renewed certificate, connections already open keep
// working; a key that does not match the new certificate is refused
// (logged) and the current pair stays.
import { copyFile, mkdtemp, rename, rm } from 'node:fs/promises';
import http2, { type ClientHttp2Session } from 'node:http2';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import tls from 'node:tls';
import t from 'tap';
import { Switchyard } from '../../src/app/switchyard.js';
import type { TestContext } from '../helpers/context.js';
import { startEchoBackend } from '../helpers/echo-backend.js';
import { echoClientMethods, echoMethodPath } from '../helpers/echo-proto.js';
import { captureLog, type CapturedLog } from '../helpers/log-capture.js';
import { proxyConfig } from '../helpers/proxy.js';
import { testPki, type Issued } from '../helpers/test-certs.js';

const PKI = testPki();
const POLL_MS = 20;
const BOUND_MS = 5000;

interface Setup {
  readonly dir: string;
  readonly certPath: string;
  readonly keyPath: string;
  readonly port: number;
  readonly log: CapturedLog;
}

/** Installs `issued` at `certPath`/`keyPath` as a renewal tool does: write aside, rename in. */
async function install(issued: Issued, certPath: string, keyPath: string): Promise<void> {
  await copyFile(issued.keyPath, `${keyPath}.new`);
  await copyFile(issued.certPath, `${certPath}.new`);
  await rename(`${keyPath}.new`, keyPath);
  await rename(`${certPath}.new`, certPath);
}

async function setup(t: TestContext): Promise<Setup> {
  const dir = await mkdtemp(join(tmpdir(), 'switchyard-cert-reload-'));
  t.teardown(() => rm(dir, { recursive: true, force: true }));
  const certPath = join(dir, 'tls.crt');
  const keyPath = join(dir, 'tls.key');
  await install(PKI.server, certPath, keyPath);
  const backend = await startEchoBackend('reload-backend');
  t.teardown(() => backend.close());
  const log = captureLog('debug');
  const proxy = await Switchyard.start(
    proxyConfig([backend.address], { listener: { tls: { cert: certPath, key: keyPath } } }),
    { logger: log.logger },
  );
  t.teardown(() => proxy.close(0));
  return { dir, certPath, keyPath, port: proxy.listenerAddress('main').port, log };
}

/** The serial number of the certificate a new connection is served. */
function servedSerial(port: number): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = tls.connect({
      host: '127.0.0.1',
      port,
      ca: PKI.ca.cert,
      servername: 'localhost',
      ALPNProtocols: ['h2'],
    });
    socket.once('secureConnect', () => {
      const serial = socket.getPeerCertificate().serialNumber;
      socket.destroy();
      resolve(serial);
    });
    socket.once('error', reject);
  });
}

async function waitForSerial(port: number, serial: string): Promise<boolean> {
  const deadline = performance.now() + BOUND_MS;
  while (performance.now() < deadline) {
    if ((await servedSerial(port)) === serial) return true;
    await new Promise((resolve) => setTimeout(resolve, POLL_MS));
  }
  return false;
}

async function openSession(t: TestContext, port: number): Promise<ClientHttp2Session> {
  const session = http2.connect(`https://localhost:${port}`, {
    ca: PKI.ca.cert,
    host: '127.0.0.1',
    servername: 'localhost',
  });
  t.teardown(() => session.destroy());
  await new Promise<void>((resolve, reject) => {
    session.once('connect', () => resolve());
    session.once('error', reject);
  });
  return session;
}

/** One Echo/Unary call on `session`; resolves with the grpc-status it ended with. */
function unaryOn(session: ClientHttp2Session, message: string): Promise<string | undefined> {
  const method = echoClientMethods.Unary;
  const body = method.requestSerialize({ message });
  const frame = Buffer.alloc(5 + body.length);
  frame.writeUInt32BE(body.length, 1);
  body.copy(frame, 5);
  return new Promise((resolve, reject) => {
    const stream = session.request({
      ':method': 'POST',
      ':path': echoMethodPath('Unary'),
      'content-type': 'application/grpc',
      te: 'trailers',
    });
    let status: string | undefined;
    stream.on('response', (headers) => {
      const value = headers['grpc-status'];
      if (typeof value === 'string') status = value;
    });
    stream.on('trailers', (trailers: http2.IncomingHttpHeaders) => {
      const value = trailers['grpc-status'];
      if (typeof value === 'string') status = value;
    });
    stream.on('data', () => undefined);
    stream.on('error', reject);
    stream.on('close', () => resolve(status));
    stream.end(frame);
  });
}

void t.test('a renewed certificate is served to new connections; open ones go on', async (t) => {
  const { certPath, keyPath, port, log } = await setup(t);
  t.equal(await servedSerial(port), PKI.server.serial, 'the first certificate is served');
  const before = await openSession(t, port);
  t.equal(await unaryOn(before, 'before'), '0', 'a call on the first connection works');

  const renewed = PKI.ca.issue('server', 'localhost');
  t.not(renewed.serial, PKI.server.serial);
  await install(renewed, certPath, keyPath);
  t.ok(await waitForSerial(port, renewed.serial), 'new connections get the renewed certificate');
  await log.waitFor((l) => l['msg'] === 'TLS certificate reloaded');

  const socket = before.socket as tls.TLSSocket;
  t.equal(socket.getPeerCertificate().serialNumber, PKI.server.serial, 'open one: old cert');
  t.equal(await unaryOn(before, 'after'), '0', 'the connection open before still carries calls');
  const after = await openSession(t, port);
  t.equal(await unaryOn(after, 'new'), '0', 'a new h2 connection carries calls too');
});

void t.test('a key that does not match the new certificate is refused', async (t) => {
  const { certPath, keyPath, port, log } = await setup(t);
  const renewed = PKI.ca.issue('server', 'localhost');
  const stranger = PKI.ca.issue('server', 'localhost');
  await install({ ...renewed, keyPath: stranger.keyPath }, certPath, keyPath);
  const line = await log.waitFor(
    (l) => l['msg'] === 'new TLS certificate/key rejected; keeping the current one',
  );
  t.equal(line['level'], 50, 'logged as an error');
  t.equal(await servedSerial(port), PKI.server.serial, 'the current certificate stays');

  // Fixing the pair is picked up: the watch is still on.
  await install(renewed, certPath, keyPath);
  t.ok(await waitForSerial(port, renewed.serial), 'the corrected pair is served');
});

void t.test('a certificate file that is not PEM is refused', async (t) => {
  const { dir, certPath, keyPath, port, log } = await setup(t);
  const junk = join(dir, 'junk');
  await copyFile(keyPath, junk); // a key where the certificate should be
  await rename(junk, certPath);
  await log.waitFor(
    (l) => l['msg'] === 'new TLS certificate/key rejected; keeping the current one',
  );
  t.equal(await servedSerial(port), PKI.server.serial, 'the current certificate stays');
});
