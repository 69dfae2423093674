/**
 * A gRPC call made with a raw node:http2 client: no deadline timer of its
 * own, and every header and frame flag visible to the test.
 */
import http2, {
  type ClientHttp2Session,
  type ClientHttp2Stream,
  type IncomingHttpHeaders,
} from 'node:http2';
import type { TestContext } from './context.js';

export interface RawReply {
  readonly headers: IncomingHttpHeaders;
  /** The response HEADERS frame carried END_STREAM (a trailers-only reply). */
  readonly trailersOnly: boolean;
  readonly trailers: IncomingHttpHeaders | undefined;
  readonly body: Buffer;
  /** grpc-status from trailers, or from the headers of a trailers-only reply. */
  readonly grpcStatus: string | undefined;
  readonly elapsedMs: number;
}

export async function rawSession(t: TestContext, address: string): Promise<ClientHttp2Session> {
  const session = http2.connect(`http://${address}`);
  session.on('error', () => undefined);
  t.teardown(() => {
    session.destroy();
  });
  await new Promise<void>((resolve, reject) => {
    session.once('connect', () => resolve());
    session.once('error', reject);
  });
  return session;
}

/** Opens a gRPC request stream (POST, application/grpc, te: trailers); the caller sends the body. */
export function grpcRequest(
  session: ClientHttp2Session,
  path: string,
  extraHeaders: Record<string, string> = {},
): ClientHttp2Stream {
  return session.request({
    ':method': 'POST',
    ':path': path,
    'content-type': 'application/grpc',
    te: 'trailers',
    ...extraHeaders,
  });
}

/** Sends one unary-shaped gRPC request and collects the reply. */
export function rawCall(
  session: ClientHttp2Session,
  path: string,
  extraHeaders: Record<string, string> = {},
  body: Buffer = Buffer.from([0, 0, 0, 0, 0]),
): Promise<RawReply> {
  const started = performance.now();
  return new Promise((resolve, reject) => {
    const stream = grpcRequest(session, path, extraHeaders);
    let headers: IncomingHttpHeaders = {};
    let trailersOnly = false;
    let trailers: IncomingHttpHeaders | undefined;
    const chunks: Buffer[] = [];
    stream.on('response', (h: IncomingHttpHeaders, flags: number) => {
      headers = h;
      trailersOnly = (flags & http2.constants.NGHTTP2_FLAG_END_STREAM) !== 0;
    });
    stream.on('trailers', (h: IncomingHttpHeaders) => (trailers = h));
    stream.on('data', (chunk: Buffer) => chunks.push(chunk));
    stream.on('error', reject);
    stream.on('close', () => {
      const status = (trailersOnly ? headers : trailers)?.['grpc-status'];
      resolve({
        headers,
        trailersOnly,
        trailers,
        body: Buffer.concat(chunks),
        grpcStatus: typeof status === 'string' ? status : undefined,
        elapsedMs: performance.now() - started,
      });
    });
    stream.end(body);
  });
}
