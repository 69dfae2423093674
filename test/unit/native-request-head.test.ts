// The switchyard engine's request head reads the engine's flat fields and
// answers as the header object would, without building one unless asked.
import t from 'tap';
import { NativeRequestHead } from '../../src/engine/native-request-head.js';

const ORIGIN = { listener: 'main', remoteAddress: '192.0.2.1', clientSubject: undefined };

void t.test('pseudo-headers, content-type and header() from the fields', (t) => {
  const fields = [
    ':method',
    'POST',
    ':scheme',
    'https',
    ':path',
    '/pkg.Svc/M',
    ':authority',
    'api.example.com',
    'content-type',
    'application/grpc+proto',
    'x-a',
    '1',
    'x-a',
    '2',
    'grpc-timeout',
    '1S',
  ];
  const head = new NativeRequestHead(fields, true, ORIGIN);
  t.equal(head.method, 'POST');
  t.equal(head.path, '/pkg.Svc/M');
  t.equal(head.authority, 'api.example.com');
  t.equal(head.scheme, 'https');
  t.equal(head.isGrpc, true);
  t.equal(head.endStream, true);
  t.equal(head.listener, 'main');
  t.equal(head.remoteAddress, '192.0.2.1');
  t.equal(head.fields, fields, 'the same fields go on upstream');
  t.equal(head.header('grpc-timeout'), '1S');
  t.equal(head.header('x-a'), '1, 2', 'a repeated name reads joined, as in the object');
  t.equal(head.header('x-missing'), undefined);
  t.equal(head.headers['x-a'], '1, 2');
  t.equal(head.headers, head.headers, 'the object is built once');
  t.end();
});

void t.test('no :authority: host; no content-type: not gRPC', (t) => {
  const head = new NativeRequestHead(
    [':method', 'GET', ':scheme', 'http', ':path', '/', 'host', 'h.example:8080'],
    false,
    ORIGIN,
  );
  t.equal(head.authority, 'h.example:8080');
  t.equal(head.isGrpc, false);
  const bare = new NativeRequestHead([':method', 'GET', ':path', '/'], false, ORIGIN);
  t.equal(bare.authority, '');
  t.equal(bare.scheme, 'http');
  t.end();
});
