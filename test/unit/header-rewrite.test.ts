// Request headers going upstream, and response headers/trailers coming back.
// Every request case runs against both builders: the header object
// (nodejs engine) and the flat fields built from the engine's fields
// (switchyard engine), read back as an object.
import http2, { type IncomingHttpHeaders, type OutgoingHttpHeaders } from 'node:http2';
import t from 'tap';
import { fieldsFromHeaders, headersFromFields } from '../../src/engine/header-objects.js';
import type { RequestHead } from '../../src/listener/downstream-call.js';
import { headerValue } from '../../src/listener/header-value.js';
import {
  downstreamHeaders,
  upstreamRequestFields,
  upstreamRequestHeaders as objectBuilder,
  type UpstreamHeaderOptions,
} from '../../src/proxy/header-rewrite.js';

type Builder = (head: RequestHead, options: UpstreamHeaderOptions) => OutgoingHttpHeaders;

const fieldsBuilder: Builder = (head, options) =>
  headersFromFields(upstreamRequestFields(head, fieldsFromHeaders(head.headers), options));

const SENSITIVE = http2.sensitiveHeaders;

const HOP_BY_HOP = [
  'connection',
  'keep-alive',
  'proxy-connection',
  'transfer-encoding',
  'upgrade',
  'te',
  'host',
];

function head(headers: IncomingHttpHeaders, overrides: Partial<RequestHead> = {}): RequestHead {
  return {
    method: 'POST',
    path: '/pkg.Svc/Method',
    authority: 'client.example.com',
    scheme: 'http',
    headers: {
      ':method': 'POST',
      ':path': '/pkg.Svc/Method',
      ':authority': 'client.example.com',
      ':scheme': 'http',
      ...headers,
    },
    isGrpc: true,
    endStream: false,
    remoteAddress: '192.0.2.10',
    listener: 'main',
    header(name) {
      return headerValue(this.headers, name);
    },
    ...overrides,
  };
}

const OPTIONS: UpstreamHeaderOptions = {
  authority: undefined,
  appendForwardedFor: true,
  requestId: 'req-1',
  scheme: 'http',
};

function marks(headers: IncomingHttpHeaders | OutgoingHttpHeaders): unknown {
  return (headers as Record<symbol, unknown>)[SENSITIVE];
}

for (const [builder, build] of [
  ['object', objectBuilder],
  ['fields', fieldsBuilder],
] as const) {
  void t.test(`${builder} builder`, async (t) => {
    await t.test('pseudo-headers are set by the proxy, never copied', (t) => {
      const out = build(
        head(
          { ':protocol': 'websocket', ':status': '200', ':scheme': 'https' },
          { method: 'GET', path: '/a?b=c' },
        ),
        OPTIONS,
      );
      const pseudo = Object.keys(out).filter((name) => name.startsWith(':'));
      t.same(pseudo.sort(), [':authority', ':method', ':path', ':scheme']);
      t.equal(out[':method'], 'GET', 'from head.method');
      t.equal(out[':path'], '/a?b=c', 'from head.path');
      t.equal(out[':scheme'], 'http', 'upstream is h2c, whatever the client said');
      const tls = build(head({}), { ...OPTIONS, scheme: 'https' });
      t.equal(tls[':scheme'], 'https', 'a TLS cluster gets https');
      t.equal(out[':authority'], 'client.example.com', 'the client authority by default');
      t.end();
    });

    await t.test('the cluster authority overrides the client one', (t) => {
      const cases: [string | undefined, string][] = [
        [undefined, 'client.example.com'],
        ['backend.internal:50051', 'backend.internal:50051'],
      ];
      for (const [authority, expected] of cases) {
        const out = build(head({}), { ...OPTIONS, authority });
        t.equal(out[':authority'], expected, String(authority));
        t.notOk('host' in out);
      }
      t.end();
    });

    await t.test('hop-by-hop headers are dropped', (t) => {
      for (const name of HOP_BY_HOP) {
        const out = build(head({ [name]: 'x', 'x-keep': 'y' }), OPTIONS);
        if (name === 'te') {
          t.equal(out.te, 'trailers', 'te is replaced, not copied');
        } else {
          t.notOk(name in out, `${name} dropped`);
        }
        t.equal(out['x-keep'], 'y', `a custom header next to ${name} survives`);
      }
      const all = build(head(Object.fromEntries(HOP_BY_HOP.map((name) => [name, 'v']))), OPTIONS);
      t.same(
        Object.keys(all)
          .filter((name) => !name.startsWith(':'))
          .sort(),
        ['te', 'x-forwarded-for', 'x-request-id'],
        'nothing hop-by-hop left when all are sent',
      );
      t.end();
    });

    await t.test('te: trailers is always sent', (t) => {
      const cases: IncomingHttpHeaders[] = [
        {},
        { te: 'trailers' },
        { te: 'gzip' },
        { te: 'trailers, deflate' },
      ];
      for (const headers of cases) {
        t.equal(build(head(headers), OPTIONS).te, 'trailers', JSON.stringify(headers));
      }
      t.end();
    });

    await t.test('metadata passes as is, -bin included', (t) => {
      const headers: IncomingHttpHeaders = {
        'content-type': 'application/grpc',
        'grpc-timeout': '1S',
        'grpc-encoding': 'gzip',
        'grpc-accept-encoding': 'identity,gzip',
        'user-agent': 'grpc-node-js/1.14',
        authorization: 'Bearer abc',
        'x-custom': 'value',
        'x-trace-bin': 'AAEC/w==',
        'set-cookie': ['a=1', 'b=2'],
      };
      const out = build(head(headers), OPTIONS);
      for (const [name, value] of Object.entries(headers)) t.same(out[name], value, name);
      t.end();
    });

    await t.test('x-request-id is set from the options', (t) => {
      const cases: IncomingHttpHeaders[] = [{}, { 'x-request-id': 'from-client' }];
      for (const headers of cases) {
        const out = build(head(headers), { ...OPTIONS, requestId: 'proxy-42' });
        t.equal(out['x-request-id'], 'proxy-42', JSON.stringify(headers));
      }
      t.end();
    });

    await t.test('x-forwarded-for', (t) => {
      const cases: {
        name: string;
        incoming: string | undefined;
        remote: string;
        append: boolean;
        expected: string | undefined;
      }[] = [
        {
          name: 'set when absent',
          incoming: undefined,
          remote: '192.0.2.10',
          append: true,
          expected: '192.0.2.10',
        },
        { name: 'appended', incoming: 'a', remote: 'b', append: true, expected: 'a, b' },
        {
          name: 'appended to a list',
          incoming: '198.51.100.1, 10.0.0.1',
          remote: '192.0.2.10',
          append: true,
          expected: '198.51.100.1, 10.0.0.1, 192.0.2.10',
        },
        { name: 'IPv6 remote', incoming: undefined, remote: '::1', append: true, expected: '::1' },
        { name: 'off: untouched', incoming: 'a', remote: 'b', append: false, expected: 'a' },
        {
          name: 'off: stays absent',
          incoming: undefined,
          remote: 'b',
          append: false,
          expected: undefined,
        },
        {
          name: 'unknown remote: untouched',
          incoming: 'a',
          remote: '',
          append: true,
          expected: 'a',
        },
        {
          name: 'unknown remote: stays absent',
          incoming: undefined,
          remote: '',
          append: true,
          expected: undefined,
        },
      ];
      for (const c of cases) {
        const headers: IncomingHttpHeaders =
          c.incoming === undefined ? {} : { 'x-forwarded-for': c.incoming };
        const out = build(head(headers, { remoteAddress: c.remote }), {
          ...OPTIONS,
          appendForwardedFor: c.append,
        });
        t.equal(out['x-forwarded-for'], c.expected, c.name);
        t.equal(c.expected === undefined, !('x-forwarded-for' in out), `${c.name}: presence`);
      }
      t.end();
    });

    await t.test('grpc-timeout and grpc-previous-rpc-attempts', (t) => {
      const client = { 'grpc-timeout': '5S', 'grpc-previous-rpc-attempts': '1' };
      const kept = build(head(client), OPTIONS);
      t.equal(kept['grpc-timeout'], '5S', "the client's timeout passes when the proxy sets none");
      t.equal(kept['grpc-previous-rpc-attempts'], '1', 'and so does its attempt count');
      const set = build(head(client), { ...OPTIONS, grpcTimeout: '4999m', previousAttempts: 2 });
      t.equal(set['grpc-timeout'], '4999m', 'the time left replaces the client value');
      t.equal(set['grpc-previous-rpc-attempts'], '2', 'the attempts before this one replace it');
      const none = build(head({}), { ...OPTIONS, previousAttempts: 0 });
      t.notOk('grpc-previous-rpc-attempts' in none, 'no header for a first attempt');
      t.notOk('grpc-timeout' in none, 'no timeout unless one is given');
      t.end();
    });
  });
}

void t.test('never-indexed marks are preserved', (t) => {
  const headers: IncomingHttpHeaders = { authorization: 'Bearer secret', 'x-plain': '1' };
  (headers as Record<symbol, unknown>)[SENSITIVE] = ['authorization'];
  const out = objectBuilder(head(headers), OPTIONS);
  t.same(marks(out), ['authorization']);
  t.equal(out.authorization, 'Bearer secret');

  const unmarked = objectBuilder(head({ authorization: 'x' }), OPTIONS);
  t.notOk(Object.getOwnPropertySymbols(unmarked).includes(SENSITIVE), 'no marks when none came');

  const empty: IncomingHttpHeaders = { authorization: 'x' };
  (empty as Record<symbol, unknown>)[SENSITIVE] = [];
  t.notOk(
    Object.getOwnPropertySymbols(objectBuilder(head(empty), OPTIONS)).includes(SENSITIVE),
    'an empty mark list is not copied',
  );
  t.end();
});

void t.test('the client headers object is not modified', (t) => {
  const h = head({ te: 'trailers', connection: 'keep-alive', 'x-forwarded-for': 'a' });
  const before = { ...h.headers };
  objectBuilder(h, OPTIONS);
  t.same(h.headers, before);
  t.end();
});

void t.test('downstreamHeaders keeps :status and metadata, drops hop-by-hop, keeps marks', (t) => {
  const headers: IncomingHttpHeaders = {
    ':status': '200',
    'content-type': 'application/grpc',
    'grpc-status': '0',
    'grpc-message': 'ok',
    'x-meta-bin': 'AAE=',
    'set-cookie': ['a=1'],
  };
  for (const name of HOP_BY_HOP) headers[name] = 'v';
  (headers as Record<symbol, unknown>)[SENSITIVE] = ['x-meta-bin'];
  const out = downstreamHeaders(headers);
  t.same(Object.keys(out).sort(), [
    ':status',
    'content-type',
    'grpc-message',
    'grpc-status',
    'set-cookie',
    'x-meta-bin',
  ]);
  t.equal(out[':status'], '200');
  t.same(out['set-cookie'], ['a=1']);
  t.same(marks(out), ['x-meta-bin']);
  t.same(downstreamHeaders({}), {}, 'empty in, empty out');
  t.end();
});
