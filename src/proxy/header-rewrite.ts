/**
 * What crosses the proxy in headers. Pseudo-headers are never copied (the
 * proxy sets its own), hop-by-hop headers are dropped (RFC 9113 §8.2.2),
 * `te: trailers` is always sent upstream (gRPC servers use it to detect
 * proxies that drop trailers), and everything else, `-bin` metadata included,
 * passes as is. Headers the client marked never-indexed stay so upstream.
 */
import http2, { type IncomingHttpHeaders, type OutgoingHttpHeaders } from 'node:http2';
import type { RequestHead } from '../listener/downstream-call.js';
import { CARRIED_FIELDS, carriedFields, type MayCarryFields } from './carried-fields.js';

const HOP_BY_HOP = new Set([
  'connection',
  'keep-alive',
  'proxy-connection',
  'transfer-encoding',
  'upgrade',
  'te',
  'host',
  'http2-settings',
]);

export interface UpstreamHeaderOptions {
  /** The cluster's `authority`; the client's when absent. */
  readonly authority: string | undefined;
  readonly appendForwardedFor: boolean;
  readonly requestId: string;
  /** The upstream connection's scheme: `https` for a cluster with `tls`. */
  readonly scheme: 'http' | 'https';
  /** Replaces the client's `grpc-timeout` (the time left of the call's deadline). */
  readonly grpcTimeout?: string | undefined;
  /** Sent as `grpc-previous-rpc-attempts` (replacing the client's) when above 0. */
  readonly previousAttempts?: number | undefined;
}

export function upstreamRequestHeaders(
  head: RequestHead,
  options: UpstreamHeaderOptions,
): OutgoingHttpHeaders {
  const out: OutgoingHttpHeaders = {
    ':method': head.method,
    ':scheme': options.scheme,
    ':authority': options.authority ?? head.authority,
    ':path': head.path,
  };
  const headers = head.headers;
  for (const name in headers) {
    if (name.charCodeAt(0) === 0x3a || HOP_BY_HOP.has(name)) continue;
    out[name] = headers[name];
  }
  out.te = 'trailers';
  out['x-request-id'] = options.requestId;
  if (options.appendForwardedFor && head.remoteAddress !== '') {
    const previous = headers['x-forwarded-for'];
    out['x-forwarded-for'] =
      previous === undefined ? head.remoteAddress : `${String(previous)}, ${head.remoteAddress}`;
  }
  if (options.grpcTimeout !== undefined) out['grpc-timeout'] = options.grpcTimeout;
  const previous = options.previousAttempts ?? 0;
  if (previous > 0) out['grpc-previous-rpc-attempts'] = String(previous);
  copySensitiveMarks(headers, out);
  return out;
}

/**
 * The same request head as `upstreamRequestHeaders`, built straight from
 * the fields the switchyard engine received (`head.fields`) into fields:
 * no header object on either side. The fields were checked when they
 * arrived and every value added here is the proxy's own, so none is checked
 * again. A name the client repeated stays repeated (the object version
 * joins it); HTTP reads both the same.
 */
export function upstreamRequestFields(
  head: RequestHead,
  fields: readonly string[],
  options: UpstreamHeaderOptions,
): string[] {
  const out = [
    ':method',
    head.method,
    ':scheme',
    options.scheme,
    ':authority',
    options.authority ?? head.authority,
    ':path',
    head.path,
  ];
  const grpcTimeout = options.grpcTimeout;
  const previous = options.previousAttempts ?? 0;
  const appendForwardedFor = options.appendForwardedFor && head.remoteAddress !== '';
  let forwardedFor: string | undefined;
  for (let i = 0; i < fields.length; i += 2) {
    const name = fields[i] as string;
    if (name.charCodeAt(0) === 0x3a || HOP_BY_HOP.has(name) || name === 'x-request-id') continue;
    const value = fields[i + 1] as string;
    if (appendForwardedFor && name === 'x-forwarded-for') {
      forwardedFor = forwardedFor === undefined ? value : `${forwardedFor}, ${value}`;
      continue;
    }
    if (grpcTimeout !== undefined && name === 'grpc-timeout') continue;
    if (previous > 0 && name === 'grpc-previous-rpc-attempts') continue;
    out.push(name, value);
  }
  out.push('te', 'trailers', 'x-request-id', options.requestId);
  if (appendForwardedFor) {
    out.push(
      'x-forwarded-for',
      forwardedFor === undefined ? head.remoteAddress : `${forwardedFor}, ${head.remoteAddress}`,
    );
  }
  if (grpcTimeout !== undefined) out.push('grpc-timeout', grpcTimeout);
  if (previous > 0) out.push('grpc-previous-rpc-attempts', String(previous));
  return out;
}

/**
 * Response headers or trailers from upstream, fit to send downstream (keeps
 * `:status`). Fields the object carries come along, less the same hop-by-hop
 * ones (the same array when there are none).
 */
export function downstreamHeaders(headers: IncomingHttpHeaders): OutgoingHttpHeaders {
  // A block the switchyard engine decoded, with nothing to drop: it goes out
  // as it came (the object is never modified), no copy made.
  const carried = carriedFields(headers);
  if (carried !== undefined && !hasHopByHop(carried)) return headers;
  const out: OutgoingHttpHeaders & MayCarryFields = {};
  let dropped = false;
  for (const name in headers) {
    if (HOP_BY_HOP.has(name)) {
      dropped = true;
      continue;
    }
    out[name] = headers[name];
  }
  if (carried !== undefined) out[CARRIED_FIELDS] = dropped ? withoutHopByHop(carried) : carried;
  copySensitiveMarks(headers, out);
  return out;
}

function hasHopByHop(fields: readonly string[]): boolean {
  for (let i = 0; i < fields.length; i += 2) if (HOP_BY_HOP.has(fields[i] as string)) return true;
  return false;
}

function withoutHopByHop(fields: readonly string[]): string[] {
  const kept: string[] = [];
  for (let i = 0; i + 1 < fields.length; i += 2) {
    const name = fields[i] as string;
    if (!HOP_BY_HOP.has(name)) kept.push(name, fields[i + 1] as string);
  }
  return kept;
}

/** Keeps the never-indexed marks (node:http2's `sensitiveHeaders` list). */
function copySensitiveMarks(from: IncomingHttpHeaders, to: OutgoingHttpHeaders): void {
  const marks = (from as Record<symbol, unknown>)[http2.sensitiveHeaders];
  if (Array.isArray(marks) && marks.length > 0) {
    (to as Record<symbol, unknown>)[http2.sensitiveHeaders] = marks;
  }
}
