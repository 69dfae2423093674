/**
 * TLS key material made at test time with the `openssl` CLI (nothing is
 * committed; docs/decisions.md says why the CLI and not an npm package).
 *
 * `TestCa.create` makes a self-signed CA (EC P-256); `ca.issue` signs a
 * server certificate (SAN DNS:localhost, IP:127.0.0.1, serverAuth) or a
 * client certificate (clientAuth) with a fresh random serial. Everything is
 * written to one temporary directory per process, removed at exit.
 * `testPki()` is the per-process cached set most tests need.
 */
import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const OPENSSL = process.env['OPENSSL'] ?? 'openssl';
const VALID_DAYS = '30';

let root: string | undefined;
let counter = 0;

/** The process's temporary directory for key material (removed at exit). */
export function certDir(): string {
  if (root === undefined) {
    const dir = mkdtempSync(join(tmpdir(), 'switchyard-certs-'));
    root = dir;
    process.once('exit', () => rmSync(dir, { recursive: true, force: true }));
  }
  return root;
}

/** A fresh file path prefix in `dir` (the process's cert directory by default). */
function freshBase(name: string, dir: string = certDir()): string {
  counter += 1;
  return join(dir, `${name.replace(/[^A-Za-z0-9_-]/g, '_')}-${String(counter)}`);
}

function openssl(args: readonly string[]): void {
  try {
    execFileSync(OPENSSL, args, { stdio: ['ignore', 'ignore', 'pipe'] });
  } catch (error) {
    const stderr = (error as { stderr?: Buffer }).stderr?.toString() ?? '';
    throw new Error(`openssl ${args.join(' ')} failed: ${stderr}`, { cause: error });
  }
}

/** A random positive 128-bit serial, as hex (what `getPeerCertificate().serialNumber` shows). */
function randomSerial(): string {
  const bytes = randomBytes(16);
  bytes[0] = ((bytes[0] ?? 0) & 0x7f) | 0x10; // positive, no leading zero byte
  return bytes.toString('hex').toUpperCase();
}

export interface Issued {
  readonly certPath: string;
  readonly keyPath: string;
  readonly cert: Buffer;
  readonly key: Buffer;
  /** Uppercase hex, as node reports it. */
  readonly serial: string;
  readonly commonName: string;
}

export type CertKind = 'server' | 'client';

export interface IssueOptions {
  /** Directory to write to; the process's cert directory by default. */
  readonly dir?: string;
  /** subjectAltName for a server certificate; default `DNS:localhost, IP:127.0.0.1`. */
  readonly subjectAltName?: string;
}

const SERVER_SAN = 'DNS:localhost, IP:127.0.0.1';

export class TestCa {
  readonly commonName: string;
  readonly certPath: string;
  readonly keyPath: string;
  readonly cert: Buffer;

  private constructor(commonName: string, certPath: string, keyPath: string) {
    this.commonName = commonName;
    this.certPath = certPath;
    this.keyPath = keyPath;
    this.cert = readFileSync(certPath);
  }

  /** A new self-signed CA. */
  static create(commonName: string): TestCa {
    const base = freshBase(commonName);
    openssl([
      'req',
      '-x509',
      '-new',
      '-newkey',
      'ec',
      '-pkeyopt',
      'ec_paramgen_curve:prime256v1',
      '-nodes',
      '-subj',
      `/CN=${commonName}`,
      '-days',
      VALID_DAYS,
      '-set_serial',
      `0x${randomSerial()}`,
      '-addext',
      'basicConstraints=critical,CA:TRUE',
      '-addext',
      'keyUsage=critical,keyCertSign,cRLSign',
      '-keyout',
      `${base}.key`,
      '-out',
      `${base}.crt`,
    ]);
    return new TestCa(commonName, `${base}.crt`, `${base}.key`);
  }

  /** A certificate signed by this CA, with its own new key. */
  issue(kind: CertKind, commonName: string, options: IssueOptions = {}): Issued {
    const base = freshBase(commonName, options.dir);
    const extensions = [
      'basicConstraints=critical,CA:FALSE',
      'keyUsage=critical,digitalSignature,keyEncipherment',
      `extendedKeyUsage=${kind === 'server' ? 'serverAuth' : 'clientAuth'}`,
      'subjectKeyIdentifier=hash',
      'authorityKeyIdentifier=keyid,issuer',
      ...(kind === 'server' ? [`subjectAltName=${options.subjectAltName ?? SERVER_SAN}`] : []),
    ];
    writeFileSync(`${base}.ext`, `${extensions.join('\n')}\n`);
    openssl([
      'req',
      '-new',
      '-newkey',
      'ec',
      '-pkeyopt',
      'ec_paramgen_curve:prime256v1',
      '-nodes',
      '-subj',
      `/O=Switchyard Tests/CN=${commonName}`,
      '-keyout',
      `${base}.key`,
      '-out',
      `${base}.csr`,
    ]);
    const serial = randomSerial();
    openssl([
      'x509',
      '-req',
      '-in',
      `${base}.csr`,
      '-CA',
      this.certPath,
      '-CAkey',
      this.keyPath,
      '-set_serial',
      `0x${serial}`,
      '-days',
      VALID_DAYS,
      '-extfile',
      `${base}.ext`,
      '-out',
      `${base}.crt`,
    ]);
    rmSync(`${base}.csr`);
    rmSync(`${base}.ext`);
    return {
      certPath: `${base}.crt`,
      keyPath: `${base}.key`,
      cert: readFileSync(`${base}.crt`),
      key: readFileSync(`${base}.key`),
      serial,
      commonName,
    };
  }
}

export interface TestPki {
  /** The CA clients and the proxy trust. */
  readonly ca: TestCa;
  /** localhost / 127.0.0.1, signed by `ca`. */
  readonly server: Issued;
  /** CN "test-client", signed by `ca`. */
  readonly client: Issued;
  /** A CA nobody trusts. */
  readonly otherCa: TestCa;
  /** localhost / 127.0.0.1, signed by `otherCa`. */
  readonly otherServer: Issued;
  /** CN "stranger", signed by `otherCa`. */
  readonly otherClient: Issued;
}

let pki: TestPki | undefined;

/** The process's shared key material (made on first use). */
export function testPki(): TestPki {
  if (pki === undefined) {
    const ca = TestCa.create('Switchyard Test CA');
    const otherCa = TestCa.create('Other Test CA');
    pki = {
      ca,
      server: ca.issue('server', 'localhost'),
      client: ca.issue('client', 'test-client'),
      otherCa,
      otherServer: otherCa.issue('server', 'localhost'),
      otherClient: otherCa.issue('client', 'stranger'),
    };
  }
  return pki;
}
