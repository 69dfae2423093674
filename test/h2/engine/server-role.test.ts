// H2Connection in the server role on a real socket, answering a node:http2
// client: unary-like calls with trailers, multi-megabyte bodies both ways
// through 64 KiB windows, many concurrent streams, trailers-only responses,
// RST_STREAM both ways, GOAWAY and PING.
import { once } from 'node:events';
import * as http2 from 'node:http2';
import t from 'tap';
import { CANCEL, NO_ERROR } from '../../../src/h2/constants.js';
import type { H2Connection } from '../../../src/h2/h2-connection.js';
import type { H2Stream, StreamCloseReason } from '../../../src/h2/h2-stream.js';
import type { HeaderFields } from '../../../src/h2/header-fields.js';
import { EchoHandler, field, patternBytes, startEngineServer } from './engine-helpers.js';

interface ClientResult {
  headers: http2.IncomingHttpHeaders;
  trailers: http2.IncomingHttpHeaders | undefined;
  body: Buffer;
  rstCode: number;
}

/** A node:http2 request: writes `body` (respecting backpressure), collects the response. */
function call(
  session: http2.ClientHttp2Session,
  headers: http2.OutgoingHttpHeaders,
  body?: Buffer,
): Promise<ClientResult> {
  const req = session.request(headers, { endStream: body === undefined });
  if (body !== undefined) req.end(body);
  return collect(req);
}

function collect(req: http2.ClientHttp2Stream): Promise<ClientResult> {
  return new Promise((resolve) => {
    let headers: http2.IncomingHttpHeaders = {};
    let trailers: http2.IncomingHttpHeaders | undefined;
    const chunks: Buffer[] = [];
    req.on('response', (h) => {
      headers = h;
    });
    req.on('trailers', (h: http2.IncomingHttpHeaders) => {
      trailers = h;
    });
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('error', () => undefined);
    req.on('close', () => {
      resolve({ headers, trailers, body: Buffer.concat(chunks), rstCode: req.rstCode });
    });
  });
}

async function connect(port: number): Promise<http2.ClientHttp2Session> {
  // node:http2 counts buffered outgoing bodies against maxSessionMemory (10 MB
  // by default) and refuses response heads past it: room for the big-body test.
  const session = http2.connect(`http://127.0.0.1:${port}`, { maxSessionMemory: 100 });
  session.on('error', () => undefined);
  await once(session, 'remoteSettings');
  return session;
}

const POST = { ':method': 'POST', ':path': '/echo', 'content-type': 'application/grpc' };

void t.test('unary-like request/response with trailers', async (t) => {
  const seen: { fields: HeaderFields; endStream: boolean }[] = [];
  const server = await startEngineServer({
    onStream(stream, fields, endStream) {
      seen.push({ fields, endStream });
      new EchoHandler(stream, [':status', '200', 'content-type', 'application/grpc']);
    },
  });
  t.teardown(() => server.close());
  const session = await connect(server.port);
  t.teardown(() => session.destroy());

  const result = await call(session, { ...POST, 'x-custom': 'abc' }, Buffer.from('hello'));
  t.equal(result.headers[':status'], 200);
  t.equal(result.headers['content-type'], 'application/grpc');
  t.equal(result.body.toString(), 'hello');
  t.equal(result.trailers?.['x-echo-end'], 'data');
  t.equal(result.rstCode, NO_ERROR);
  t.equal(seen.length, 1);
  t.equal(field(seen[0]?.fields, ':method'), 'POST');
  t.equal(field(seen[0]?.fields, ':path'), '/echo');
  t.equal(field(seen[0]?.fields, 'x-custom'), 'abc');
  t.equal(seen[0]?.endStream, false);

  // A request with trailers: they come back as the response trailers.
  const req = session.request(POST, { waitForTrailers: true });
  req.on('wantTrailers', () => req.sendTrailers({ 'x-client-trailer': 'yes' }));
  req.end(Buffer.from('with trailers'));
  const withTrailers = await collect(req);
  t.equal(withTrailers.body.toString(), 'with trailers');
  t.equal(withTrailers.trailers?.['x-client-trailer'], 'yes');
});

void t.test('large bodies both ways through 64 KiB windows', async (t) => {
  const server = await startEngineServer(
    {
      onStream: (stream) => new EchoHandler(stream),
      onAbuse: (kind) => t.fail(`abuse ${kind}`),
      onError: (error) => t.fail(error.message),
    },
    { settings: { initialWindowSize: 65535 } },
  );
  t.teardown(() => server.close());
  const session = await connect(server.port);
  t.teardown(() => session.destroy());
  const body = patternBytes(6 * 1024 * 1024 + 123, 7);
  const [a, b] = await Promise.all([call(session, POST, body), call(session, POST, body)]);
  t.equal(a.body.length, body.length);
  t.ok(a.body.equals(body), 'first echo intact');
  t.ok(b.body.equals(body), 'second echo intact');
});

void t.test('many concurrent streams', async (t) => {
  const server = await startEngineServer({ onStream: (stream) => new EchoHandler(stream) });
  t.teardown(() => server.close());
  const session = await connect(server.port);
  t.teardown(() => session.destroy());
  const results = await Promise.all(
    Array.from({ length: 300 }, (_, i) => call(session, POST, Buffer.from(`message ${i}`))),
  );
  results.forEach((r, i) => {
    if (r.body.toString() !== `message ${i}`) t.fail(`stream ${i} got ${r.body.toString()}`);
  });
  t.equal(results.length, 300);
  t.equal(server.connections[0]?.activeStreams, 0);
});

void t.test('a trailers-only response', async (t) => {
  const server = await startEngineServer({
    onStream(stream) {
      stream.sendHeaders(
        [':status', '200', 'content-type', 'application/grpc', 'grpc-status', '5'],
        true,
      );
    },
  });
  t.teardown(() => server.close());
  const session = await connect(server.port);
  t.teardown(() => session.destroy());
  const result = await call(session, POST, Buffer.from('x'));
  t.equal(result.headers['grpc-status'], '5');
  t.equal(result.body.length, 0);
});

void t.test('RST_STREAM both ways', async (t) => {
  const closes: { code: number; reason: StreamCloseReason }[] = [];
  let streamArrived!: (s: H2Stream) => void;
  const arrived = new Promise<H2Stream>((r) => (streamArrived = r));
  let closed!: () => void;
  const closedP = new Promise<void>((r) => (closed = r));
  const server = await startEngineServer({
    onStream(stream) {
      stream.handler = {
        onHeaders: () => undefined,
        onData: () => undefined,
        onWritable: () => undefined,
        onClose: (code, reason) => {
          closes.push({ code, reason });
          closed();
        },
      };
      streamArrived(stream);
    },
  });
  t.teardown(() => server.close());
  const session = await connect(server.port);
  t.teardown(() => session.destroy());

  // Client resets.
  const req = session.request(POST);
  req.write('partial');
  await arrived;
  req.close(http2.constants.NGHTTP2_CANCEL);
  await closedP;
  t.same(closes, [{ code: CANCEL, reason: 'reset_remote' }]);

  // Server resets.
  const server2 = await startEngineServer({
    onStream(stream) {
      stream.sendHeaders([':status', '200'], false);
      stream.write(Buffer.from('some'));
      setImmediate(() => stream.reset(http2.constants.NGHTTP2_ENHANCE_YOUR_CALM));
    },
  });
  t.teardown(() => server2.close());
  const session2 = await connect(server2.port);
  t.teardown(() => session2.destroy());
  const req2 = session2.request(POST);
  req2.on('error', () => undefined);
  const result = await collect(req2);
  t.equal(result.rstCode, http2.constants.NGHTTP2_ENHANCE_YOUR_CALM);
});

void t.test(
  'GOAWAY: graceful close lets the open stream finish, then the session ends',
  async (t) => {
    let held: H2Stream | undefined;
    let connection: H2Connection | undefined;
    let gotStream!: () => void;
    const streamP = new Promise<void>((r) => (gotStream = r));
    const server = await startEngineServer({
      onStream(stream) {
        held = stream;
        connection = stream.connection;
        new EchoHandler(stream);
        gotStream();
      },
    });
    t.teardown(() => server.close());
    const session = await connect(server.port);
    t.teardown(() => session.destroy());
    const goaway = once(session, 'goaway');
    const req = session.request(POST);
    req.write('before goaway');
    const result = collect(req);
    await streamP;
    connection?.close();
    const [code, lastStreamId] = (await goaway) as [number, number];
    t.equal(code, NO_ERROR);
    t.equal(lastStreamId, held?.id);
    t.equal(connection?.acceptingStreams, false);
    req.end(' and after');
    const r = await result;
    t.equal(r.body.toString(), 'before goaway and after');
    await once(session, 'close');
    t.equal(connection?.closed, true);
  },
);

void t.test('PING both ways', async (t) => {
  const server = await startEngineServer({ onStream: (stream) => new EchoHandler(stream) });
  t.teardown(() => server.close());
  const nextConnection = server.nextConnection();
  const session = await connect(server.port);
  t.teardown(() => session.destroy());
  const connection = await nextConnection;
  const rtt = await new Promise<number>((resolve, reject) => {
    session.ping((err, duration) => (err === null ? resolve(duration) : reject(err)));
  });
  t.ok(rtt >= 0, 'node:http2 got our PING ACK');
  const error = await new Promise<Error | null>((resolve) => {
    t.ok(connection.ping(resolve), 'ping sent');
  });
  t.equal(error, null, 'our PING was acknowledged');
});

void t.test('pause() holds the peer at one window; resume() lets the rest through', async (t) => {
  const body = patternBytes(1024 * 1024, 11);
  let received = 0;
  let reachedWindow!: (stream: H2Stream) => void;
  const atWindow = new Promise<H2Stream>((r) => (reachedWindow = r));
  const server = await startEngineServer({
    onStream(stream) {
      stream.pause();
      stream.sendHeaders([':status', '200'], false);
      stream.handler = {
        onHeaders: () => undefined,
        onData(chunk, endStream) {
          received += chunk.length;
          if (received === 65535 && stream.id > 0) reachedWindow(stream);
          if (endStream) stream.end([`x-received`, String(received)]);
        },
        onWritable: () => undefined,
        onClose: () => undefined,
      };
    },
  });
  t.teardown(() => server.close());
  const session = await connect(server.port);
  t.teardown(() => session.destroy());
  const result = call(session, POST, body);
  const stream = await atWindow;
  // A PING round trip: anything the client could still send would have arrived first.
  await new Promise<Error | null>((resolve) => stream.connection.ping(resolve));
  t.equal(received, 65535, 'nothing beyond the stream window while paused');
  stream.resume();
  const r = await result;
  t.equal(r.trailers?.['x-received'], String(body.length));
});
