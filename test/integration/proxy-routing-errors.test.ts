// Where a call goes and who answers when it cannot be served: the backend for
// an unknown method, the proxy for an unrouted service or a dead endpoint;
// and per-call round robin over one client connection.
import t from 'tap';
import * as grpc from '@grpc/grpc-js';
import { serviceError } from '../helpers/echo-client.js';
import { connectClient, deadAddress, proxiedEcho } from '../helpers/harness.js';
import { proxyConfig, startProxy } from '../helpers/proxy.js';

void t.test('unknown method on a known backend: UNIMPLEMENTED from the backend', async (t) => {
  const { client, backends } = await proxiedEcho(t);
  const error = await serviceError(client.unaryAt('/switchyard.test.Echo/Nope', { message: 'x' }));
  t.equal(error.code, grpc.status.UNIMPLEMENTED);
  // grpc-js servers say "The server does not implement the method <path>".
  t.match(error.details, /does not implement the method \/switchyard\.test\.Echo\/Nope/);
  t.notMatch(error.details, /no route/i, 'not the proxy’s own reply');
  t.equal(backends[0]?.calls, 0, 'no handler ran');
});

void t.test('unrouted service: UNIMPLEMENTED from the proxy', async (t) => {
  const { client, backends } = await proxiedEcho(t);
  const error = await serviceError(client.unaryAt('/other.Service/Method', { message: 'x' }));
  t.equal(error.code, grpc.status.UNIMPLEMENTED);
  t.match(error.details, /no route/i);
  t.match(error.details, '/other.Service/Method');
  t.equal(backends[0]?.calls, 0, 'nothing reached the backend');

  // The connection is still good for routed calls.
  const ok = await client.unary({ message: 'still here' });
  t.equal(ok.reply.message, 'still here');
});

void t.test('backend down: UNAVAILABLE within 1 s', async (t) => {
  const dead = await deadAddress();
  const { address } = await startProxy(t, proxyConfig([dead]));
  const client = connectClient(t, address);
  const started = performance.now();
  // The deadline only stops a hang from hanging the suite; it must not be what ends the call.
  const error = await serviceError(
    client.unary({ message: 'anyone?' }, new grpc.Metadata(), { deadline: Date.now() + 5000 }),
  );
  const elapsed = performance.now() - started;
  t.equal(error.code, grpc.status.UNAVAILABLE, `got ${grpc.status[error.code]}: ${error.details}`);
  t.ok(elapsed < 1000, `failed in ${Math.round(elapsed)} ms`);
});

void t.test('one client connection: calls spread round robin over three backends', async (t) => {
  const { client, backends } = await proxiedEcho(t, ['b1', 'b2', 'b3']);
  const servedBy: string[] = [];
  for (let i = 0; i < 30; i++) {
    const { reply } = await client.unary({ message: `call ${i}` });
    servedBy.push(reply.backend);
  }
  t.same(
    backends.map((b) => b.calls),
    [10, 10, 10],
    'each backend served 10 of the 30 calls',
  );
  // Round robin: every window of three consecutive calls covers all three backends.
  for (let i = 0; i + 3 <= servedBy.length; i += 3) {
    t.same(new Set(servedBy.slice(i, i + 3)).size, 3, `calls ${i}..${i + 2} hit three backends`);
  }
});
