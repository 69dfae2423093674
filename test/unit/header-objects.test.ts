// The switchyard engine's bridge between flat header fields and node's header objects.
import t from 'tap';
import { fieldsFromHeaders, headersFromFields } from '../../src/engine/header-objects.js';
import { downstreamHeaders } from '../../src/proxy/header-rewrite.js';

void t.test('fields from an object: pseudo-headers first, arrays one field each', (t) => {
  t.same(fieldsFromHeaders({ ':status': 200, 'content-type': 'application/grpc' }), [
    ':status',
    '200',
    'content-type',
    'application/grpc',
  ]);
  t.same(
    fieldsFromHeaders({
      'x-a': '1',
      ':method': 'POST',
      'X-B': ['2', '3'],
      ':path': '/p',
      e: undefined,
    }),
    [':method', 'POST', ':path', '/p', 'x-a', '1', 'x-b', '2', 'x-b', '3'],
    'a pseudo-header after a regular one moves to the front; names lowercased',
  );
  t.same(fieldsFromHeaders({}), []);
  t.throws(() => fieldsFromHeaders({ 'x-bad': 'a\r\nb' }), { code: 'bad_request' });
  t.end();
});

void t.test('object from fields joins repeats as node:http2 does', (t) => {
  const headers = headersFromFields([
    ':status',
    '200',
    'x-a',
    '1',
    'x-a',
    '2',
    'cookie',
    'a=1',
    'cookie',
    'b=2',
    'set-cookie',
    's',
  ]);
  t.same(
    { ...headers },
    {
      ':status': '200',
      'x-a': '1, 2',
      cookie: 'a=1; b=2',
      'set-cookie': ['s'],
    },
  );
  t.end();
});

void t.test('a decoded block is carried through to the fields sent on, less hop-by-hop', (t) => {
  const response = [':status', '200', 'content-type', 'application/grpc', 'x-a', '1'];
  const headers = headersFromFields(response);
  t.equal(fieldsFromHeaders(headers), response, 'the same array, not rebuilt');
  t.equal(fieldsFromHeaders(downstreamHeaders(headers)), response);
  const withHop = headersFromFields(['grpc-status', '0', 'connection', 'close', 'x-b', '2']);
  const out = downstreamHeaders(withHop);
  t.same(fieldsFromHeaders(out), ['grpc-status', '0', 'x-b', '2']);
  t.same(Object.keys(out), ['grpc-status', 'x-b'], 'the object says the same');
  t.end();
});

void t.test('a block with a repeated name is not carried: the object joined it', (t) => {
  const headers = headersFromFields([':status', '200', 'x-a', '1', 'x-a', '2']);
  t.same(fieldsFromHeaders(downstreamHeaders(headers)), [':status', '200', 'x-a', '1, 2']);
  t.end();
});

void t.test('names a peer chooses never reach a prototype', (t) => {
  const headers = headersFromFields([
    '__proto__',
    'polluted',
    'constructor',
    'c',
    'x-a',
    '1',
  ]) as Record<string, unknown>;
  t.equal(headers['__proto__'], 'polluted', '__proto__ is an ordinary field');
  t.equal(headers['constructor'], 'c');
  t.same(Object.keys(headers), ['__proto__', 'constructor', 'x-a']);
  const plain = headersFromFields(['x-a', '1']) as Record<string, unknown>;
  t.equal(plain['constructor'], undefined, 'nothing inherited to read');
  t.equal(Reflect.get(plain, 'toString'), undefined);
  t.equal(Reflect.get(plain, 'hasOwnProperty'), undefined);
  t.equal(({} as Record<string, unknown>)['polluted'], undefined, 'Object.prototype untouched');
  const names: string[] = [];
  for (const name in plain) names.push(name);
  t.same(names, ['x-a'], 'for…in sees only the fields');
  t.end();
});
