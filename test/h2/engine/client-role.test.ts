// connectH2 (H2Connection in the client role) against a node:http2 server:
// unary-like calls with trailers, multi-megabyte bodies both ways through
// 64 KiB windows, requests queued under the server's MAX_CONCURRENT_STREAMS,
// trailers-only responses, RST_STREAM both ways, GOAWAY, PING, and TLS with
// ALPN h2.
import { once } from 'node:events';
import * as http2 from 'node:http2';
import type { AddressInfo } from 'node:net';
import t from 'tap';
import { CANCEL, NO_ERROR, REFUSED_STREAM } from '../../../src/h2/constants.js';
import { connectH2 } from '../../../src/h2/h2-client.js';
import type { ConnectionEvents, H2Connection } from '../../../src/h2/h2-connection.js';
import { H2ConnectionError } from '../../../src/h2/h2-error.js';
import type { HeaderFields } from '../../../src/h2/header-fields.js';
import { testPki } from '../../helpers/test-certs.js';
import { CollectHandler, field, patternBytes, writeAll } from './engine-helpers.js';

/** Echo server: response head, the request body back, request trailers back as response trailers. */
function echo(stream: http2.ServerHttp2Stream, headers: http2.IncomingHttpHeaders): void {
  stream.respond(
    { ':status': 200, 'content-type': 'application/grpc', 'x-path': headers[':path'] ?? '' },
    { waitForTrailers: true },
  );
  let requestTrailers: http2.IncomingHttpHeaders = {};
  stream.on('trailers', (h: http2.IncomingHttpHeaders) => {
    requestTrailers = h;
  });
  stream.on('wantTrailers', () => {
    stream.sendTrailers({ 'grpc-status': '0', 'x-got-trailer': String(requestTrailers['x-t']) });
  });
  stream.on('error', () => undefined);
  stream.pipe(stream);
}

async function startNodeServer(
  onStream: (stream: http2.ServerHttp2Stream, headers: http2.IncomingHttpHeaders) => void,
  settings: http2.Settings = {},
): Promise<{ server: http2.Http2Server; port: number; sessions: Set<http2.ServerHttp2Session> }> {
  const sessions = new Set<http2.ServerHttp2Session>();
  const server = http2.createServer({ settings, maxSessionMemory: 100 });
  server.on('session', (session) => {
    sessions.add(session);
    session.on('error', () => undefined);
  });
  server.on('stream', onStream);
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  return { server, port: (server.address() as AddressInfo).port, sessions };
}

function closeServer(server: http2.Http2Server, sessions: Set<http2.ServerHttp2Session>): void {
  for (const session of sessions) session.destroy();
  server.close();
}

const REQUEST: HeaderFields = [
  ':method',
  'POST',
  ':scheme',
  'http',
  ':path',
  '/switchyard.test.Echo/Unary',
  ':authority',
  'localhost',
  'content-type',
  'application/grpc',
  'te',
  'trailers',
];

function connect(port: number, events: ConnectionEvents = {}): H2Connection {
  return connectH2('127.0.0.1', port, { role: 'client' }, events);
}

void t.test('unary-like request/response with trailers', async (t) => {
  const { server, port, sessions } = await startNodeServer(echo);
  t.teardown(() => closeServer(server, sessions));
  const connection = connect(port);
  t.teardown(() => connection.destroy());

  const handler = new CollectHandler();
  // Made before the socket connects: queued by the socket.
  const stream = connection.request(REQUEST, false, handler);
  stream.write(Buffer.from('hello'));
  stream.end(['x-t', 'trailer-value']);
  const r = await handler.done;
  t.equal(field(r.heads[0], ':status'), '200');
  t.equal(field(r.heads[0], 'x-path'), '/switchyard.test.Echo/Unary');
  t.equal(r.body.toString(), 'hello');
  t.equal(field(r.trailers, 'grpc-status'), '0');
  t.equal(field(r.trailers, 'x-got-trailer'), 'trailer-value');
  t.same([r.code, r.reason], [NO_ERROR, 'complete']);
  t.equal(stream.id, 1);
  t.equal(connection.activeStreams, 0);
  t.ok(connection.remoteSettingsReceived);
});

void t.test('large bodies both ways through 64 KiB windows', async (t) => {
  const { server, port, sessions } = await startNodeServer(echo, { initialWindowSize: 65535 });
  t.teardown(() => closeServer(server, sessions));
  const connection = connectH2(
    '127.0.0.1',
    port,
    { role: 'client', settings: { initialWindowSize: 65535 } },
    {},
  );
  t.teardown(() => connection.destroy());
  const body = patternBytes(5 * 1024 * 1024 + 77, 3);
  const results = await Promise.all(
    [0, 1].map(async () => {
      const handler = new CollectHandler();
      const stream = connection.request(REQUEST, false, handler);
      writeAll(stream, handler, body, 100_000, ['x-t', 'big']);
      const r = await handler.done;
      return { r, writable: handler.writableCalls };
    }),
  );
  for (const { r, writable } of results) {
    t.equal(r.body.length, body.length);
    t.ok(r.body.equals(body), 'echo intact');
    t.equal(field(r.trailers, 'x-got-trailer'), 'big');
    t.ok(writable > 0, 'backpressure: onWritable was called');
  }
});

void t.test("requests beyond the server's MAX_CONCURRENT_STREAMS wait for a slot", async (t) => {
  let maxSeen = 0;
  let open = 0;
  const { server, port, sessions } = await startNodeServer(
    (stream, headers) => {
      open++;
      maxSeen = Math.max(maxSeen, open);
      stream.on('close', () => open--);
      echo(stream, headers);
    },
    { maxConcurrentStreams: 5 },
  );
  t.teardown(() => closeServer(server, sessions));
  const connection = connect(port);
  t.teardown(() => connection.destroy());
  await new Promise<void>((resolve) => {
    const check = setInterval(() => {
      if (connection.remoteSettingsReceived) {
        clearInterval(check);
        resolve();
      }
    }, 1);
  });
  const ids: number[] = [];
  const done = Array.from({ length: 60 }, (_, i) => {
    const handler = new CollectHandler();
    const stream = connection.request(REQUEST, false, handler);
    stream.end();
    stream.write(Buffer.from('ignored after end'));
    void handler.done.then(() => ids.push(stream.id));
    return handler.done.then((r) => ({ r, i }));
  });
  t.ok(connection.activeStreams >= 60, 'queued streams count as active');
  const results = await Promise.all(done);
  t.ok(results.every(({ r }) => r.reason === 'complete'));
  t.ok(maxSeen <= 5, `server saw at most 5 at once (saw ${maxSeen})`);
  t.equal(new Set(ids).size, 60);
  t.ok(
    ids.every((id) => id % 2 === 1),
    'odd ids',
  );
});

void t.test('a trailers-only response', async (t) => {
  const { server, port, sessions } = await startNodeServer((stream) => {
    stream.respond({ ':status': 200, 'grpc-status': '12' }, { endStream: true });
  });
  t.teardown(() => closeServer(server, sessions));
  const connection = connect(port);
  t.teardown(() => connection.destroy());
  const handler = new CollectHandler();
  connection.request(REQUEST, true, handler);
  const r = await handler.done;
  t.equal(r.heads.length, 1);
  t.equal(field(r.heads[0], 'grpc-status'), '12');
  t.equal(r.body.length, 0);
  t.same([r.code, r.reason], [NO_ERROR, 'complete']);
});

void t.test('RST_STREAM both ways', async (t) => {
  const rst: number[] = [];
  let arrived!: () => void;
  const arrivedP = new Promise<void>((r) => (arrived = r));
  let serverClosed!: () => void;
  const serverClosedP = new Promise<void>((r) => (serverClosed = r));
  const { server, port, sessions } = await startNodeServer((stream, headers) => {
    stream.on('error', () => undefined);
    if (headers[':path'] === '/server-resets') {
      stream.respond({ ':status': 200 });
      stream.write('x');
      setImmediate(() => stream.close(http2.constants.NGHTTP2_REFUSED_STREAM));
      return;
    }
    stream.on('close', () => {
      rst.push(stream.rstCode);
      serverClosed();
    });
    arrived();
  });
  t.teardown(() => closeServer(server, sessions));
  const connection = connect(port);
  t.teardown(() => connection.destroy());

  const handler = new CollectHandler();
  const stream = connection.request(REQUEST, false, handler);
  stream.write(Buffer.from('partial'));
  await arrivedP;
  stream.reset(CANCEL);
  const r = await handler.done;
  t.same([r.code, r.reason], [CANCEL, 'reset_local']);
  t.equal(stream.closed, true);
  await serverClosedP;
  t.same(rst, [CANCEL]);

  const handler2 = new CollectHandler();
  const fields = [...REQUEST];
  fields[5] = '/server-resets';
  // Our side stays open, so node:http2 must send RST_STREAM (not just END_STREAM).
  connection.request(fields, false, handler2);
  const r2 = await handler2.done;
  t.same([r2.code, r2.reason], [REFUSED_STREAM, 'reset_remote']);
});

void t.test('GOAWAY from the server: in-flight stream finishes, no new streams', async (t) => {
  let serverStream!: (s: http2.ServerHttp2Stream) => void;
  const streamP = new Promise<http2.ServerHttp2Stream>((r) => (serverStream = r));
  const { server, port, sessions } = await startNodeServer((stream, headers) => {
    echo(stream, headers);
    serverStream(stream);
  });
  t.teardown(() => closeServer(server, sessions));
  const goaways: number[][] = [];
  let closed!: () => void;
  const closedP = new Promise<void>((r) => (closed = r));
  const connection = connect(port, {
    onGoaway: (code, last) => goaways.push([code, last]),
    onClose: closed,
  });
  t.teardown(() => connection.destroy());
  const handler = new CollectHandler();
  const stream = connection.request(REQUEST, false, handler);
  stream.write(Buffer.from('one'));
  const s = await streamP;
  s.session?.close();
  await new Promise<void>((resolve) => {
    const check = setInterval(() => {
      if (connection.goawayReceived !== undefined) {
        clearInterval(check);
        resolve();
      }
    }, 1);
  });
  t.same(goaways, [[NO_ERROR, 1]]);
  t.equal(connection.acceptingStreams, false);
  t.throws(() => connection.request(REQUEST, true, new CollectHandler()), H2ConnectionError);
  stream.end();
  const r = await handler.done;
  t.equal(r.body.toString(), 'one');
  t.equal(r.reason, 'complete');
  await closedP;
  t.equal(connection.closed, true);
});

void t.test('PING both ways', async (t) => {
  const { server, port, sessions } = await startNodeServer(echo);
  t.teardown(() => closeServer(server, sessions));
  const connection = connect(port);
  t.teardown(() => connection.destroy());
  const error = await new Promise<Error | null>((resolve) => connection.ping(resolve));
  t.equal(error, null);
  const [session] = [...sessions];
  const rtt = await new Promise<number>((resolve, reject) => {
    session?.ping((err, duration) => (err === null ? resolve(duration) : reject(err)));
  });
  t.ok(rtt >= 0, 'node:http2 server got our PING ACK');
  connection.destroy();
  t.equal(
    connection.ping(() => undefined),
    false,
    'no PING on a destroyed connection',
  );
});

void t.test('TLS with ALPN h2', async (t) => {
  const pki = testPki();
  const server = http2.createSecureServer({ cert: pki.server.cert, key: pki.server.key });
  server.on('stream', echo);
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  t.teardown(() => server.close());
  const port = (server.address() as AddressInfo).port;
  const connection = connectH2('localhost', port, { role: 'client', tls: { ca: pki.ca.cert } }, {});
  t.teardown(() => connection.destroy());
  const handler = new CollectHandler();
  const stream = connection.request(REQUEST, false, handler);
  stream.write(Buffer.from('over tls'));
  stream.end();
  const r = await handler.done;
  t.equal(field(r.heads[0], ':status'), '200');
  t.equal(r.body.toString(), 'over tls');
  t.equal(r.reason, 'complete');
});

void t.test('TLS: a server that selects no protocol fails the connection', async (t) => {
  const pki = testPki();
  const tls = await import('node:tls');
  const server = tls.createServer({
    cert: pki.server.cert,
    key: pki.server.key,
  });
  server.on('secureConnection', (socket) => socket.on('error', () => undefined));
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  t.teardown(() => server.close());
  const port = (server.address() as AddressInfo).port;
  const errors: Error[] = [];
  let closed!: () => void;
  const closedP = new Promise<void>((r) => (closed = r));
  const connection = connectH2(
    'localhost',
    port,
    { role: 'client', tls: { ca: pki.ca.cert } },
    { onError: (e) => errors.push(e), onClose: closed },
  );
  const handler = new CollectHandler();
  connection.request(REQUEST, true, handler);
  const r = await handler.done;
  t.not(r.reason, 'complete');
  await closedP;
  t.match(errors[0]?.message ?? '', /ALPN/);
});
