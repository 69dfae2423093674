// Route matching: each condition on its own, then how routes combine.
import type { IncomingHttpHeaders } from 'node:http2';
import t, { type Test } from 'tap';
import type { RouteConfig, RouteMatchConfig } from '../../src/config/schema.js';
import { RouteTable, type Route, type RouteRequest } from '../../src/router/route-table.js';

function request(
  path: string,
  authority = 'proxy.local',
  headers: IncomingHttpHeaders = {},
): RouteRequest {
  return { path, authority, headers };
}

/** A table with one route for `match`, plus whether `req` is routed by it. */
function matches(match: RouteMatchConfig, req: RouteRequest): boolean {
  const table = new RouteTable([{ name: 'r', match, cluster: 'c' }]);
  return table.match(req)?.name === 'r';
}

interface Case {
  readonly name: string;
  readonly match: RouteMatchConfig;
  readonly request: RouteRequest;
  readonly expected: boolean;
}

function runCases(t: Test, cases: readonly Case[]): void {
  for (const c of cases) t.equal(matches(c.match, c.request), c.expected, c.name);
}

void t.test('service', (t) => {
  const match = { service: 'pkg.Svc' };
  runCases(t, [
    { name: '/pkg.Svc/Method matches', match, request: request('/pkg.Svc/Method'), expected: true },
    { name: '/pkg.Svc/Other matches', match, request: request('/pkg.Svc/Other'), expected: true },
    { name: '/pkg.SvcX/M does not', match, request: request('/pkg.SvcX/M'), expected: false },
    {
      name: '/pkg.Svc/ (no method) does not',
      match,
      request: request('/pkg.Svc/'),
      expected: false,
    },
    { name: '/pkg.Svc (no slash) does not', match, request: request('/pkg.Svc'), expected: false },
    { name: '/pkg.Sv/M does not', match, request: request('/pkg.Sv/M'), expected: false },
    {
      name: '/other.pkg.Svc/M does not',
      match,
      request: request('/other.pkg.Svc/M'),
      expected: false,
    },
    { name: '/x/pkg.Svc/M does not', match, request: request('/x/pkg.Svc/M'), expected: false },
    {
      name: 'case-sensitive: /pkg.svc/M does not',
      match,
      request: request('/pkg.svc/M'),
      expected: false,
    },
    { name: 'no leading slash does not', match, request: request('pkg.Svc/M'), expected: false },
  ]);
  t.end();
});

void t.test('method', (t) => {
  const match = { method: '/pkg.Svc/Method' };
  runCases(t, [
    { name: 'exact path matches', match, request: request('/pkg.Svc/Method'), expected: true },
    { name: 'other method does not', match, request: request('/pkg.Svc/Other'), expected: false },
    {
      name: 'longer method does not',
      match,
      request: request('/pkg.Svc/MethodX'),
      expected: false,
    },
    { name: 'shorter method does not', match, request: request('/pkg.Svc/Metho'), expected: false },
    {
      name: 'trailing slash does not',
      match,
      request: request('/pkg.Svc/Method/'),
      expected: false,
    },
    { name: 'case-sensitive', match, request: request('/pkg.Svc/method'), expected: false },
    {
      name: 'other service does not',
      match,
      request: request('/pkg.Other/Method'),
      expected: false,
    },
  ]);
  t.end();
});

void t.test('prefix', (t) => {
  runCases(t, [
    { name: '/ matches all', match: { prefix: '/' }, request: request('/a/b'), expected: true },
    { name: 'exact path', match: { prefix: '/api' }, request: request('/api'), expected: true },
    {
      name: 'longer path',
      match: { prefix: '/api/' },
      request: request('/api/v1'),
      expected: true,
    },
    {
      name: 'string prefix',
      match: { prefix: '/pkg.' },
      request: request('/pkg.Svc/M'),
      expected: true,
    },
    {
      name: 'not a prefix',
      match: { prefix: '/api/' },
      request: request('/apx/v1'),
      expected: false,
    },
    { name: 'shorter path', match: { prefix: '/api/' }, request: request('/api'), expected: false },
    {
      name: 'case-sensitive',
      match: { prefix: '/API' },
      request: request('/api'),
      expected: false,
    },
  ]);
  t.end();
});

void t.test('authority', (t) => {
  const host = { authority: 'api.example.com' };
  const hostPort = { authority: 'api.example.com:8443' };
  const wildcard = { authority: '*.example.com' };
  const at = (authority: string): RouteRequest => request('/x/y', authority);
  runCases(t, [
    { name: 'host = host', match: host, request: at('api.example.com'), expected: true },
    {
      name: 'host pattern, request with port',
      match: host,
      request: at('api.example.com:443'),
      expected: true,
    },
    {
      name: 'host pattern, other port',
      match: host,
      request: at('api.example.com:8443'),
      expected: true,
    },
    {
      name: 'host pattern, other host',
      match: host,
      request: at('web.example.com'),
      expected: false,
    },
    {
      name: 'host pattern, longer host',
      match: host,
      request: at('api.example.com.evil'),
      expected: false,
    },
    {
      name: 'host pattern, subdomain',
      match: host,
      request: at('x.api.example.com'),
      expected: false,
    },
    {
      name: 'case-insensitive request',
      match: host,
      request: at('API.Example.COM'),
      expected: true,
    },
    {
      name: 'case-insensitive pattern',
      match: { authority: 'Api.EXAMPLE.com' },
      request: at('api.example.com:80'),
      expected: true,
    },
    {
      name: 'port pattern, same port',
      match: hostPort,
      request: at('api.example.com:8443'),
      expected: true,
    },
    {
      name: 'port pattern, other port',
      match: hostPort,
      request: at('api.example.com:443'),
      expected: false,
    },
    {
      name: 'port pattern, no port',
      match: hostPort,
      request: at('api.example.com'),
      expected: false,
    },
    {
      name: 'port pattern, port prefix',
      match: hostPort,
      request: at('api.example.com:84430'),
      expected: false,
    },
    {
      name: 'port pattern, case',
      match: hostPort,
      request: at('API.example.com:8443'),
      expected: true,
    },
    { name: 'wildcard, subdomain', match: wildcard, request: at('a.example.com'), expected: true },
    {
      name: 'wildcard, deeper subdomain',
      match: wildcard,
      request: at('a.b.example.com'),
      expected: true,
    },
    {
      name: 'wildcard, with port',
      match: wildcard,
      request: at('a.example.com:8080'),
      expected: true,
    },
    { name: 'wildcard, case', match: wildcard, request: at('A.EXAMPLE.COM'), expected: true },
    { name: 'wildcard, bare domain', match: wildcard, request: at('example.com'), expected: false },
    {
      name: 'wildcard, only the dot',
      match: wildcard,
      request: at('.example.com'),
      expected: false,
    },
    {
      name: 'wildcard, suffix lookalike',
      match: wildcard,
      request: at('badexample.com'),
      expected: false,
    },
    {
      name: 'wildcard, other domain',
      match: wildcard,
      request: at('a.example.org'),
      expected: false,
    },
    {
      name: 'wildcard, domain inside',
      match: wildcard,
      request: at('a.example.com.evil.net'),
      expected: false,
    },
    {
      name: 'IPv6 literal with port',
      match: { authority: '[::1]' },
      request: at('[::1]:8080'),
      expected: true,
    },
    {
      name: 'IPv6 literal without port',
      match: { authority: '[::1]' },
      request: at('[::1]'),
      expected: true,
    },
    {
      name: 'IPv4 with port',
      match: { authority: '127.0.0.1' },
      request: at('127.0.0.1:50051'),
      expected: true,
    },
  ]);
  t.end();
});

void t.test('headers', (t) => {
  const one = { headers: { 'x-tenant': 'blue' } };
  const two = { headers: { 'x-tenant': 'blue', 'x-canary': '1' } };
  const at = (headers: IncomingHttpHeaders): RouteRequest => request('/x/y', 'h', headers);
  runCases(t, [
    { name: 'one header equal', match: one, request: at({ 'x-tenant': 'blue' }), expected: true },
    {
      name: 'one header differs',
      match: one,
      request: at({ 'x-tenant': 'green' }),
      expected: false,
    },
    {
      name: 'value case-sensitive',
      match: one,
      request: at({ 'x-tenant': 'Blue' }),
      expected: false,
    },
    {
      name: 'value prefix only',
      match: one,
      request: at({ 'x-tenant': 'blueish' }),
      expected: false,
    },
    { name: 'header missing', match: one, request: at({}), expected: false },
    {
      name: 'extra request headers ignored',
      match: one,
      request: at({ 'x-tenant': 'blue', 'x-other': 'z' }),
      expected: true,
    },
    {
      name: 'all of two present',
      match: two,
      request: at({ 'x-tenant': 'blue', 'x-canary': '1' }),
      expected: true,
    },
    {
      name: 'one of two missing',
      match: two,
      request: at({ 'x-tenant': 'blue' }),
      expected: false,
    },
    {
      name: 'one of two differs',
      match: two,
      request: at({ 'x-tenant': 'blue', 'x-canary': '0' }),
      expected: false,
    },
    {
      name: 'empty value matches empty',
      match: { headers: { 'x-e': '' } },
      request: at({ 'x-e': '' }),
      expected: true,
    },
    {
      name: 'empty value needs the header',
      match: { headers: { 'x-e': '' } },
      request: at({}),
      expected: false,
    },
    { name: 'empty headers map matches', match: { headers: {} }, request: at({}), expected: true },
  ]);
  t.end();
});

void t.test('all conditions of a route must hold', (t) => {
  const match: RouteMatchConfig = {
    service: 'pkg.Svc',
    authority: 'api.example.com',
    headers: { 'x-tenant': 'blue' },
  };
  const ok = request('/pkg.Svc/M', 'api.example.com', { 'x-tenant': 'blue' });
  runCases(t, [
    { name: 'all hold', match, request: ok, expected: true },
    { name: 'service fails', match, request: { ...ok, path: '/pkg.Other/M' }, expected: false },
    {
      name: 'authority fails',
      match,
      request: { ...ok, authority: 'web.example.com' },
      expected: false,
    },
    {
      name: 'header fails',
      match,
      request: { ...ok, headers: { 'x-tenant': 'red' } },
      expected: false,
    },
    {
      name: 'method and service together',
      match: { service: 'pkg.Svc', method: '/pkg.Svc/M' },
      request: ok,
      expected: true,
    },
    {
      name: 'method and prefix disagreeing',
      match: { method: '/pkg.Svc/M', prefix: '/other' },
      request: ok,
      expected: false,
    },
  ]);
  t.end();
});

void t.test('first match wins; empty match catches all; no match is undefined', (t) => {
  const routes: RouteConfig[] = [
    { name: 'method', match: { method: '/pkg.Svc/Special' }, cluster: 'special' },
    { name: 'service', match: { service: 'pkg.Svc' }, cluster: 'svc' },
    { name: 'service-again', match: { service: 'pkg.Svc' }, cluster: 'never' },
    { name: 'admin-host', match: { authority: 'admin.local' }, cluster: 'admin' },
  ];
  const table = new RouteTable(routes);
  const cases: { path: string; authority?: string; expected: string | undefined }[] = [
    { path: '/pkg.Svc/Special', expected: 'method' },
    { path: '/pkg.Svc/Plain', expected: 'service' },
    { path: '/pkg.Svc/Plain', authority: 'admin.local', expected: 'service' },
    { path: '/other.Svc/M', authority: 'admin.local', expected: 'admin-host' },
    { path: '/other.Svc/M', expected: undefined },
  ];
  for (const c of cases) {
    const route = table.match(request(c.path, c.authority));
    t.equal(route?.name, c.expected, `${c.path} @ ${c.authority ?? 'proxy.local'}`);
  }

  const withCatchAll = new RouteTable([
    ...routes,
    { name: 'default', match: {}, cluster: 'fallback' },
    { name: 'after-default', match: { prefix: '/' }, cluster: 'never' },
  ]);
  t.equal(withCatchAll.match(request('/other.Svc/M'))?.name, 'default');
  t.equal(
    withCatchAll.match(request('/pkg.Svc/Plain'))?.name,
    'service',
    'earlier routes still win',
  );
  t.equal(withCatchAll.match(request('/', ''))?.name, 'default', 'even an empty authority');

  const catchAllFirst = new RouteTable([
    { name: 'default', match: {}, cluster: 'fallback' },
    { name: 'service', match: { service: 'pkg.Svc' }, cluster: 'svc' },
  ]);
  t.equal(catchAllFirst.match(request('/pkg.Svc/M'))?.name, 'default', 'order, not specificity');

  t.equal(new RouteTable([]).match(request('/pkg.Svc/M')), undefined, 'empty table');
  t.end();
});

void t.test('the matched route carries name, cluster and grpcOnly', (t) => {
  const cases: { match: RouteMatchConfig; path: string; grpcOnly: boolean }[] = [
    { match: { service: 'pkg.Svc' }, path: '/pkg.Svc/M', grpcOnly: true },
    { match: { method: '/pkg.Svc/M' }, path: '/pkg.Svc/M', grpcOnly: true },
    { match: { service: 'pkg.Svc', headers: { a: 'b' } }, path: '/pkg.Svc/M', grpcOnly: true },
    { match: { method: '/pkg.Svc/M', authority: 'h' }, path: '/pkg.Svc/M', grpcOnly: true },
    { match: { prefix: '/pkg.Svc/' }, path: '/pkg.Svc/M', grpcOnly: false },
    { match: { authority: 'h' }, path: '/pkg.Svc/M', grpcOnly: false },
    { match: { headers: { a: 'b' } }, path: '/pkg.Svc/M', grpcOnly: false },
    { match: {}, path: '/pkg.Svc/M', grpcOnly: false },
  ];
  for (const c of cases) {
    const table = new RouteTable([{ name: 'r1', match: c.match, cluster: 'c1' }]);
    const route = table.match(request(c.path, 'h', { a: 'b' }));
    const label = JSON.stringify(c.match);
    t.equal(route?.name, 'r1', `${label}: name`);
    t.equal(route?.pickCluster(), 'c1', `${label}: cluster`);
    t.equal(route?.grpcOnly, c.grpcOnly, `${label}: grpcOnly`);
  }
  t.end();
});

/** The one route of a table for `clusters`, or for a single `cluster` when given a string. */
function splitRoute(clusters: string | RouteConfig['clusters']): Route {
  const config: RouteConfig =
    typeof clusters === 'string'
      ? { name: 'r', match: {}, cluster: clusters }
      : { name: 'r', match: {}, ...(clusters === undefined ? {} : { clusters }) };
  const route = new RouteTable([config]).match(request('/pkg.Svc/M'));
  if (route === undefined) throw new Error('route r did not match');
  return route;
}

/** A `random` that must not be called. */
const noRandom = (): number => {
  throw new Error('random was called');
};

void t.test('pickCluster: weighted by the injected random, edges exact', (t) => {
  const split = [
    { name: 'v1', weight: 90 },
    { name: 'v2', weight: 10 },
  ];
  const three = [
    { name: 'a', weight: 1 },
    { name: 'b', weight: 2 },
    { name: 'c', weight: 1 },
  ];
  const cases: { split: RouteConfig['clusters']; random: number; expected: string }[] = [
    // 90/10 over [0, 100): [0, 90) is v1, [90, 100) is v2.
    { split, random: 0, expected: 'v1' },
    { split, random: 0.5, expected: 'v1' },
    { split, random: 0.8999, expected: 'v1' },
    { split, random: 0.9, expected: 'v2' },
    { split, random: 0.95, expected: 'v2' },
    { split, random: 0.9999999, expected: 'v2' },
    // 1/2/1 over [0, 4): a [0, 1), b [1, 3), c [3, 4).
    { split: three, random: 0, expected: 'a' },
    { split: three, random: 0.2499, expected: 'a' },
    { split: three, random: 0.25, expected: 'b' },
    { split: three, random: 0.7499, expected: 'b' },
    { split: three, random: 0.75, expected: 'c' },
    { split: three, random: 0.9999999, expected: 'c' },
    // A random source returning 1 (outside [0, 1)) still picks a listed cluster.
    { split: three, random: 1, expected: 'c' },
  ];
  for (const c of cases) {
    const names = (c.split ?? []).map((e) => `${e.name}:${e.weight}`).join(',');
    t.equal(
      splitRoute(c.split).pickCluster(() => c.random),
      c.expected,
      `[${names}] at ${c.random}`,
    );
  }
  t.end();
});

void t.test('pickCluster: one cluster is returned without calling random', (t) => {
  t.equal(splitRoute('solo').pickCluster(noRandom), 'solo', 'cluster: solo');
  t.equal(splitRoute([{ name: 'v2', weight: 1 }]).pickCluster(noRandom), 'v2', 'one-entry split');
  t.equal(splitRoute('solo').pickCluster(), 'solo', 'default random');
  t.end();
});

void t.test('pickCluster: the default random spreads calls by weight', (t) => {
  const route = splitRoute([
    { name: 'v1', weight: 3 },
    { name: 'v2', weight: 1 },
  ]);
  const counts = new Map<string, number>();
  for (let i = 0; i < 4000; i++) {
    const name = route.pickCluster();
    counts.set(name, (counts.get(name) ?? 0) + 1);
  }
  t.same([...counts.keys()].sort(), ['v1', 'v2']);
  // Binomial(4000, 0.75): sd ~27, so ±200 is over 7 sd.
  t.ok(Math.abs((counts.get('v1') ?? 0) - 3000) <= 200, `v1 got ${counts.get('v1') ?? 0}`);
  t.end();
});

void t.test('a route without any cluster is a programming error at compile time', (t) => {
  t.throws(() => splitRoute(undefined), /route r names no cluster/);
  t.end();
});
