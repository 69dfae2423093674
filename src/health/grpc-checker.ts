/**
 * `grpc: { service, unimplemented_is_healthy }`: calls
 * `/grpc.health.v1.Health/Check` and is healthy iff the call ends with
 * grpc-status 0 and the reply's `status` is SERVING (1). UNIMPLEMENTED (the
 * backend has no health service) is unhealthy unless `unimplemented_is_healthy`.
 *
 * Connections: the checker keeps its own session per endpoint (h2c, or TLS
 * with the cluster's `tls:` settings), separate
 * from the endpoint's call pool. Checks therefore ignore the pool's reconnect
 * back-off (a restarted backend is seen at the next check), never take a
 * stream slot from calls, and a check never opens calls' connections. A
 * session that fails, gets GOAWAY or closes is dropped; the next check opens
 * a new one. Sessions are unref'd: they never keep the process alive.
 *
 * The request (HealthCheckRequest {1: service}) and reply
 * (HealthCheckResponse {1: status}) are hand-encoded protobuf.
 */
import http2, { type ClientHttp2Session, type IncomingHttpHeaders } from 'node:http2';
import { parseHostPort } from '../config/host-port.js';
import {
  HEALTHY,
  abortReason,
  unhealthy,
  type CheckResult,
  type CheckTarget,
  type HealthChecker,
} from './checker.js';
import { tlsConnectOptions, type UpstreamTlsOptions } from '../upstream/upstream-tls.js';

export const HEALTH_CHECK_PATH = '/grpc.health.v1.Health/Check';
const SERVING = 1;
const GRPC_OK = 0;
const GRPC_UNIMPLEMENTED = 12;
/** A health reply is a few bytes; anything much larger is not one. */
const MAX_REPLY_BYTES = 64 * 1024;

export interface GrpcCheckOptions {
  readonly service: string;
  readonly unimplementedIsHealthy: boolean;
  /** `:authority` to send; the endpoint's address when undefined. */
  readonly authority?: string | undefined;
  /** The cluster's TLS; cleartext h2c when undefined. */
  readonly tls?: UpstreamTlsOptions | undefined;
}

export class GrpcHealthChecker implements HealthChecker {
  readonly #options: GrpcCheckOptions;
  readonly #request: Buffer;
  readonly #sessions = new Map<string, ClientHttp2Session>();

  constructor(options: GrpcCheckOptions) {
    this.#options = options;
    this.#request = grpcFrame(encodeHealthCheckRequest(options.service));
  }

  check(endpoint: CheckTarget, signal: AbortSignal): Promise<CheckResult> {
    if (signal.aborted) return Promise.resolve(unhealthy(abortReason(signal)));
    let session: ClientHttp2Session;
    try {
      session = this.#session(endpoint.address);
    } catch (error) {
      return Promise.resolve(unhealthy(describe(error)));
    }
    return new Promise((resolve) => {
      let headers: IncomingHttpHeaders | undefined;
      let trailers: IncomingHttpHeaders | undefined;
      let failure: string | undefined;
      const chunks: Buffer[] = [];
      let received = 0;
      const stream = session.request({
        ':method': 'POST',
        ':path': HEALTH_CHECK_PATH,
        ':scheme': this.#options.tls === undefined ? 'http' : 'https',
        ':authority': this.#options.authority ?? endpoint.address,
        'content-type': 'application/grpc',
        te: 'trailers',
      });
      const onAbort = (): void => {
        failure ??= abortReason(signal);
        stream.close(http2.constants.NGHTTP2_CANCEL);
      };
      signal.addEventListener('abort', onAbort, { once: true });
      stream.on('response', (h: IncomingHttpHeaders) => {
        headers = h;
      });
      stream.on('trailers', (t: IncomingHttpHeaders) => {
        trailers = t;
      });
      stream.on('data', (chunk: Buffer) => {
        received += chunk.length;
        if (received > MAX_REPLY_BYTES) {
          failure ??= 'health reply too large';
          stream.close(http2.constants.NGHTTP2_CANCEL);
          return;
        }
        chunks.push(chunk);
      });
      stream.on('error', (error) => {
        failure ??= describe(error);
      });
      stream.on('close', () => {
        signal.removeEventListener('abort', onAbort);
        if (failure !== undefined) {
          resolve(unhealthy(failure));
          return;
        }
        resolve(this.#verdict(headers, trailers, Buffer.concat(chunks), stream.rstCode));
      });
      stream.end(this.#request);
    });
  }

  forget(endpoint: CheckTarget): void {
    const session = this.#sessions.get(endpoint.address);
    this.#sessions.delete(endpoint.address);
    session?.close();
  }

  close(): Promise<void> {
    const sessions = [...this.#sessions.values()];
    this.#sessions.clear();
    for (const session of sessions) session.destroy();
    return Promise.resolve();
  }

  #session(address: string): ClientHttp2Session {
    const cached = this.#sessions.get(address);
    if (cached !== undefined && !cached.closed && !cached.destroyed) return cached;
    const target = parseHostPort(address);
    if (target === undefined) throw new Error(`bad address ${address}`);
    const host = target.host.includes(':') ? `[${target.host}]` : target.host;
    const tls = this.#options.tls;
    const session =
      tls === undefined
        ? http2.connect(`http://${host}:${String(target.port)}`)
        : http2.connect(`https://${host}:${String(target.port)}`, tlsConnectOptions(tls));
    const drop = (): void => {
      if (this.#sessions.get(address) === session) this.#sessions.delete(address);
    };
    session.on('error', drop);
    session.on('goaway', drop);
    session.on('close', drop);
    session.unref();
    this.#sessions.set(address, session);
    return session;
  }

  #verdict(
    headers: IncomingHttpHeaders | undefined,
    trailers: IncomingHttpHeaders | undefined,
    body: Buffer,
    rstCode: number,
  ): CheckResult {
    if (headers === undefined)
      return unhealthy(`stream closed without a reply (RST ${String(rstCode)})`);
    const status = Number(headers[':status']);
    if (status !== 200) return unhealthy(`HTTP status ${String(status)}`);
    // Trailers-only replies carry grpc-status in the headers.
    const grpcStatus = trailers?.['grpc-status'] ?? headers['grpc-status'];
    if (typeof grpcStatus !== 'string') return unhealthy('reply without grpc-status');
    const code = Number(grpcStatus);
    if (code === GRPC_UNIMPLEMENTED && this.#options.unimplementedIsHealthy) return HEALTHY;
    if (code !== GRPC_OK) return unhealthy(`grpc-status ${grpcStatus}`);
    const message = grpcMessage(body);
    if (message === undefined) return unhealthy('malformed health reply');
    const serving = decodeServingStatus(message);
    if (serving === undefined) return unhealthy('malformed health reply');
    return serving === SERVING ? HEALTHY : unhealthy(`serving status ${String(serving)}`);
  }
}

function describe(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

/** HealthCheckRequest { string service = 1; } — empty service is the empty message. */
export function encodeHealthCheckRequest(service: string): Buffer {
  if (service === '') return Buffer.alloc(0);
  const bytes = Buffer.from(service, 'utf8');
  return Buffer.concat([Buffer.from([0x0a]), encodeVarint(bytes.length), bytes]);
}

function encodeVarint(value: number): Buffer {
  const out: number[] = [];
  let rest = value;
  while (rest >= 0x80) {
    out.push((rest & 0x7f) | 0x80);
    rest = Math.floor(rest / 0x80);
  }
  out.push(rest);
  return Buffer.from(out);
}

function grpcFrame(message: Buffer): Buffer {
  const prefix = Buffer.alloc(5);
  prefix.writeUInt32BE(message.length, 1);
  return Buffer.concat([prefix, message]);
}

/** The one uncompressed message of a unary reply, or undefined if the body is not exactly that. */
function grpcMessage(body: Buffer): Buffer | undefined {
  if (body.length < 5 || body[0] !== 0) return undefined;
  const length = body.readUInt32BE(1);
  if (body.length !== 5 + length) return undefined;
  return body.subarray(5);
}

/**
 * HealthCheckResponse { ServingStatus status = 1; }: the status (0, UNKNOWN,
 * when absent), skipping unknown fields; undefined if malformed.
 */
export function decodeServingStatus(message: Buffer): number | undefined {
  let offset = 0;
  let status = 0;
  const varint = (): number | undefined => {
    let value = 0;
    let scale = 1;
    for (let i = 0; i < 10; i++) {
      const byte = message[offset++];
      if (byte === undefined) return undefined;
      value += (byte & 0x7f) * scale;
      if ((byte & 0x80) === 0) return value;
      scale *= 0x80;
    }
    return undefined;
  };
  while (offset < message.length) {
    const key = varint();
    if (key === undefined) return undefined;
    const field = Math.floor(key / 8);
    const wire = key % 8;
    if (wire === 0) {
      const value = varint();
      if (value === undefined) return undefined;
      if (field === 1) status = value;
    } else if (wire === 2) {
      const length = varint();
      if (length === undefined || offset + length > message.length) return undefined;
      offset += length;
    } else if (wire === 1) {
      offset += 8;
    } else if (wire === 5) {
      offset += 4;
    } else {
      return undefined;
    }
  }
  return offset === message.length ? status : undefined;
}
