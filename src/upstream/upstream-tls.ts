/**
 * A cluster's `tls:` as its connections use it: the files read once, when
 * the cluster is built (at start, or by a reload that changes the cluster),
 * and the node:tls options every connection to its endpoints gets (the call
 * pool's sessions and the health checks alike).
 *
 * Name checks: `server_name` when set (also sent as SNI); otherwise the
 * endpoint's host, which node:tls checks against the certificate's DNS SANs
 * for a name and its IP SANs for an IP address (no SNI is sent for an IP).
 */
import { readFileSync } from 'node:fs';
import type { ConnectionOptions } from 'node:tls';
import type { UpstreamTlsConfig } from '../config/schema.js';

export interface UpstreamTlsOptions {
  /** Trusted CAs; the system roots when undefined. */
  readonly ca?: Buffer;
  /** Client certificate and key (mTLS), both or neither. */
  readonly cert?: Buffer;
  readonly key?: Buffer;
  readonly serverName?: string;
  /** false only with `insecure_skip_verify: true`. */
  readonly verify: boolean;
}

export const UPSTREAM_TLS_MIN_VERSION = 'TLSv1.2';

/** Reads the cluster's TLS files; undefined for a cleartext (h2c) cluster. Throws on unreadable files. */
export function loadUpstreamTls(
  config: UpstreamTlsConfig | undefined,
): UpstreamTlsOptions | undefined {
  if (config === undefined) return undefined;
  return {
    ...(config.ca === undefined ? {} : { ca: readFileSync(config.ca) }),
    ...(config.cert === undefined ? {} : { cert: readFileSync(config.cert) }),
    ...(config.key === undefined ? {} : { key: readFileSync(config.key) }),
    ...(config.server_name === undefined ? {} : { serverName: config.server_name }),
    verify: config.insecure_skip_verify !== true,
  };
}

/** The node:tls options of a connection to one of the cluster's endpoints (ALPN h2 is http2's). */
export function tlsConnectOptions(tls: UpstreamTlsOptions): ConnectionOptions {
  return {
    ...(tls.ca === undefined ? {} : { ca: tls.ca }),
    ...(tls.cert === undefined ? {} : { cert: tls.cert }),
    ...(tls.key === undefined ? {} : { key: tls.key }),
    ...(tls.serverName === undefined ? {} : { servername: tls.serverName }),
    rejectUnauthorized: tls.verify,
    minVersion: UPSTREAM_TLS_MIN_VERSION,
  };
}

/** OpenSSL certificate-verification results as node reports them in `error.code`. */
const VERIFY_CODES = new Set([
  'UNABLE_TO_GET_ISSUER_CERT',
  'UNABLE_TO_GET_ISSUER_CERT_LOCALLY',
  'UNABLE_TO_VERIFY_LEAF_SIGNATURE',
  'DEPTH_ZERO_SELF_SIGNED_CERT',
  'SELF_SIGNED_CERT_IN_CHAIN',
  'CERT_HAS_EXPIRED',
  'CERT_NOT_YET_VALID',
  'CERT_SIGNATURE_FAILURE',
  'CERT_REVOKED',
  'CERT_UNTRUSTED',
  'CERT_REJECTED',
  'INVALID_CA',
  'INVALID_PURPOSE',
  'HOSTNAME_MISMATCH',
  'ERR_TLS_CERT_ALTNAME_INVALID',
]);

/**
 * Why a TLS connection failed, for the warning it is logged with; undefined
 * for errors that are not TLS's (refused, reset, timed out).
 */
export function describeTlsFailure(error: Error): string | undefined {
  const code = (error as { code?: unknown }).code;
  if (typeof code !== 'string') return undefined;
  if (VERIFY_CODES.has(code)) return `certificate verify failed: ${error.message} (${code})`;
  // TLS 1.3: the backend asked for a client certificate we did not send.
  if (code === 'ERR_SSL_TLSV13_ALERT_CERTIFICATE_REQUIRED') {
    return `TLS handshake failed: the backend requires client certificates, set the cluster’s tls.cert and tls.key (${error.message.trim()})`;
  }
  if (code.startsWith('ERR_SSL_') || code.startsWith('ERR_TLS_')) {
    return `TLS handshake failed: ${error.message}`;
  }
  return undefined;
}

/** The reason logged when a backend closes a TLS connection after the handshake, before SETTINGS. */
export function closedAfterHandshake(tls: UpstreamTlsOptions): string {
  const hint =
    tls.cert === undefined
      ? '; if it requires client certificates, set the cluster’s tls.cert and tls.key'
      : '; it may not accept our client certificate';
  return `the backend closed the connection after the TLS handshake, before its HTTP/2 SETTINGS${hint}`;
}
