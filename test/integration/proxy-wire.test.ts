// The proxy's own replies on the wire, seen by a raw node:http2 client: a
// trailers-only gRPC reply is ONE HEADERS frame with END_STREAM, and a non-gRPC
// request on a gRPC-only route is refused with HTTP 415.
import http2 from 'node:http2';
import t from 'tap';
import type { TestContext } from '../helpers/context.js';
import { echoClientMethods, type EchoRequestInit } from '../helpers/echo-proto.js';
import { proxiedEcho } from '../helpers/harness.js';

const { NGHTTP2_FLAG_END_STREAM } = http2.constants;

/** A gRPC length-prefixed frame holding an empty message. */
const EMPTY_GRPC_MESSAGE = Buffer.alloc(5);

interface RawResponse {
  readonly headers: http2.IncomingHttpHeaders & http2.IncomingHttpStatusHeader;
  /** Flags of the HEADERS frame that carried the response headers. */
  readonly flags: number;
  readonly trailers: http2.IncomingHttpHeaders | undefined;
  readonly body: Buffer;
}

function connect(t: TestContext, address: string): http2.ClientHttp2Session {
  const session = http2.connect(`http://${address}`);
  session.on('error', () => undefined); // surfaced through the request instead
  t.teardown(() => {
    session.destroy();
  });
  return session;
}

/** Sends one request and collects everything the proxy answers until the stream closes. */
function request(
  session: http2.ClientHttp2Session,
  headers: http2.OutgoingHttpHeaders,
  body: Buffer,
): Promise<RawResponse> {
  return new Promise<RawResponse>((resolve, reject) => {
    const stream = session.request(headers);
    let response: { headers: RawResponse['headers']; flags: number } | undefined;
    let trailers: http2.IncomingHttpHeaders | undefined;
    const chunks: Buffer[] = [];
    stream.on('response', (received, flags) => {
      response = { headers: received, flags };
    });
    stream.on('trailers', (received: http2.IncomingHttpHeaders) => {
      trailers = received;
    });
    stream.on('data', (chunk: Buffer) => chunks.push(chunk));
    stream.on('error', reject);
    stream.on('close', () => {
      if (response === undefined) {
        reject(new Error(`stream closed without a response (rstCode ${stream.rstCode})`));
        return;
      }
      resolve({ ...response, trailers, body: Buffer.concat(chunks) });
    });
    stream.end(body);
  });
}

function grpcRequestHeaders(path: string, address: string): http2.OutgoingHttpHeaders {
  return {
    ':method': 'POST',
    ':scheme': 'http',
    ':authority': address,
    ':path': path,
    'content-type': 'application/grpc',
    te: 'trailers',
  };
}

/** One gRPC length-prefixed frame holding `request`. */
function grpcFrame(request: EchoRequestInit): Buffer {
  const message = echoClientMethods.Unary.requestSerialize(request);
  const prefix = Buffer.alloc(5);
  prefix.writeUInt32BE(message.length, 1);
  return Buffer.concat([prefix, message]);
}

/** Per the gRPC spec: printable ASCII, with every '%' starting a %XX escape. */
const PERCENT_ENCODED = /^(?:[\x20-\x24\x26-\x7e]|%[0-9A-Fa-f]{2})*$/;

void t.test('unrouted gRPC call: trailers-only reply in one HEADERS frame', async (t) => {
  const { address, backends } = await proxiedEcho(t);
  const session = connect(t, address);
  const path = '/other.Service/Method';
  const reply = await request(session, grpcRequestHeaders(path, address), EMPTY_GRPC_MESSAGE);

  t.ok(reply.flags & NGHTTP2_FLAG_END_STREAM, 'the response HEADERS frame ends the stream');
  t.equal(reply.trailers, undefined, 'no second HEADERS frame (trailers)');
  t.equal(reply.body.length, 0, 'no DATA');
  t.equal(reply.headers[':status'], 200);
  t.equal(reply.headers['content-type'], 'application/grpc');
  t.equal(reply.headers['grpc-status'], '12', 'UNIMPLEMENTED');
  const message = reply.headers['grpc-message'];
  if (typeof message !== 'string') throw new Error('no grpc-message');
  t.match(message, PERCENT_ENCODED, 'grpc-message is percent-encoded');
  t.match(decodeURIComponent(message), /no route/i);
  t.equal(backends[0]?.calls, 0);
});

void t.test('grpc-message escapes the % of a path it quotes', async (t) => {
  const { address } = await proxiedEcho(t);
  const session = connect(t, address);
  const path = '/other.Service/M%C3%A9thod%zz';
  const reply = await request(session, grpcRequestHeaders(path, address), EMPTY_GRPC_MESSAGE);
  t.equal(reply.headers['grpc-status'], '12');
  const message = reply.headers['grpc-message'];
  if (typeof message !== 'string') throw new Error('no grpc-message');
  t.match(message, PERCENT_ENCODED, `"${message}" is percent-encoded`);
  t.match(decodeURIComponent(message), path, 'decodes back to the path as sent');
});

void t.test(
  'a backend’s trailers-only reply stays one HEADERS frame through the proxy',
  async (t) => {
    const { address, backends } = await proxiedEcho(t);
    const session = connect(t, address);
    const reply = await request(
      session,
      grpcRequestHeaders('/switchyard.test.Echo/Unary', address),
      grpcFrame({ failCode: 5, failMessage: 'not here' }),
    );
    t.equal(backends[0]?.calls, 1, 'the backend answered');
    t.ok(reply.flags & NGHTTP2_FLAG_END_STREAM, 'the response HEADERS frame ends the stream');
    t.equal(reply.trailers, undefined, 'no trailers frame');
    t.equal(reply.headers[':status'], 200);
    t.equal(reply.headers['grpc-status'], '5');
    const message = reply.headers['grpc-message'];
    t.equal(typeof message === 'string' ? decodeURIComponent(message) : message, 'not here');
  },
);

for (const contentType of ['application/json', undefined]) {
  void t.test(`content-type ${contentType ?? '(none)'} on the gRPC route: HTTP 415`, async (t) => {
    const { address, backends } = await proxiedEcho(t);
    const session = connect(t, address);
    const headers = grpcRequestHeaders('/switchyard.test.Echo/Unary', address);
    if (contentType === undefined) delete headers['content-type'];
    else headers['content-type'] = contentType;
    const reply = await request(session, headers, Buffer.from('{}'));
    t.equal(reply.headers[':status'], 415);
    t.equal(reply.headers['grpc-status'], undefined, 'not dressed up as a gRPC reply');
    t.equal(backends[0]?.calls, 0, 'nothing reached the backend');
  });
}
