/**
 * Fuzzing the route matcher: for routes with arbitrary match conditions and
 * requests with arbitrary paths, authorities and headers, RouteTable.match
 * never throws and returns one of its routes or undefined, the first route
 * whose conditions hold.
 */
import type { IncomingHttpHeaders } from 'node:http2';
import fc from 'fast-check';
import t from 'tap';
import type { RouteConfig, RouteMatchConfig } from '../../src/config/schema.js';
import { RouteTable } from '../../src/router/route-table.js';
import { fuzzParameters } from './runs.js';

const text = fc.oneof(
  fc.string({ maxLength: 30 }),
  fc.constantFrom(
    '/',
    '/a.B/',
    '/a.B/M',
    'Api.Example.com',
    'x.example.com:443',
    '[::1]:80',
    ':',
    '',
  ),
);

const match: fc.Arbitrary<RouteMatchConfig> = fc.record(
  {
    service: fc.stringMatching(/^[A-Za-z_][A-Za-z0-9_.]{0,10}$/),
    method: text.map((s) => `/${s}`),
    prefix: text,
    authority: fc.oneof(
      text,
      text.map((s) => `*.${s}`),
      fc.constant('*.example.com'),
    ),
    headers: fc.dictionary(fc.stringMatching(/^[a-z][a-z0-9-]{0,8}$/), text, { maxKeys: 3 }),
  },
  { requiredKeys: [] },
);

const routes: fc.Arbitrary<RouteConfig[]> = fc
  .array(match, { minLength: 1, maxLength: 6 })
  .map((matches) => matches.map((m, i) => ({ name: `r${i}`, match: m, cluster: `c${i}` })));

const headers: fc.Arbitrary<IncomingHttpHeaders> = fc.dictionary(
  fc.oneof(
    fc.string({ maxLength: 10 }),
    fc.constantFrom('x-a', 'content-type', '__proto__', 'constructor'),
  ),
  fc.oneof(text, fc.array(text, { maxLength: 3 })),
  { maxKeys: 5 },
);

void t.test('match never throws and returns one of the routes or undefined', (t) => {
  fc.assert(
    fc.property(routes, text, text, headers, (configs, path, authority, head) => {
      const table = new RouteTable(configs);
      const found = table.match({ path, authority, headers: head });
      if (found === undefined) return true;
      const index = configs.findIndex((c) => c.name === found.name);
      if (index < 0) return false;
      // The first match: a table of the routes before it finds none of them.
      const earlier = configs.slice(0, index);
      return (
        earlier.length === 0 ||
        new RouteTable(earlier).match({ path, authority, headers: head }) === undefined
      );
    }),
    fuzzParameters(),
  );
  t.end();
});

void t.test('a route with no conditions matches every request', (t) => {
  fc.assert(
    fc.property(text, text, headers, (path, authority, head) => {
      const table = new RouteTable([{ name: 'all', match: {}, cluster: 'c' }]);
      return table.match({ path, authority, headers: head })?.name === 'all';
    }),
    fuzzParameters(),
  );
  t.end();
});
