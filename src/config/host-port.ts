/**
 * `host:port` as written in the config: a DNS name or IPv4 address before the
 * last colon, or an IPv6 address in brackets (`[::1]:8080`), since a bare
 * IPv6 address cannot be told apart from its port.
 */
import { isIPv4, isIPv6 } from 'node:net';

export interface HostPort {
  /** Without brackets for IPv6, ready for `net.connect` / `server.listen`. */
  readonly host: string;
  readonly port: number;
}

const BRACKETED = /^\[([^\]]+)\]:(\d{1,5})$/;
const PLAIN = /^([^:[\]]+):(\d{1,5})$/;

// Underscores are not valid in host names proper, but container runtimes
// (docker compose service names) resolve them, so rejecting them would only get in the way.
const LABEL = /^[A-Za-z0-9_](?:[A-Za-z0-9_-]{0,61}[A-Za-z0-9_])?$/;
const ALL_DIGITS = /^\d+$/;

/** `{host, port}` for a valid `host:port` with port 0-65535, else undefined. */
export function parseHostPort(text: string): HostPort | undefined {
  const bracketed = BRACKETED.exec(text);
  if (bracketed !== null) {
    const [, host = '', port = ''] = bracketed;
    return isIPv6(host) ? withPort(host, port) : undefined;
  }
  const plain = PLAIN.exec(text);
  if (plain === null) return undefined;
  const [, host = '', port = ''] = plain;
  return isIPv4(host) || isDnsName(host) ? withPort(host, port) : undefined;
}

function withPort(host: string, digits: string): HostPort | undefined {
  const port = Number(digits);
  return port <= 65535 ? { host, port } : undefined;
}

function isDnsName(host: string): boolean {
  const name = host.endsWith('.') ? host.slice(0, -1) : host;
  if (name.length === 0 || name.length > 253) return false;
  const labels = name.split('.');
  // An all-numeric last label is a mistyped IPv4 address (`10.0.0.256`), not a name.
  const last = labels[labels.length - 1] ?? '';
  return labels.every((label) => LABEL.test(label)) && !ALL_DIGITS.test(last);
}
