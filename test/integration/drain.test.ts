// Graceful drain (Switchyard.drain, what SIGTERM runs): not ready and
// NOT_SERVING for drain_delay while calls are still taken; the two-phase
// GOAWAY; in-flight streams finish; those left at drain_timeout end UNAVAILABLE.
import http2 from 'node:http2';
import t from 'tap';
import * as grpc from '@grpc/grpc-js';
import type { Config } from '../../src/config/schema.js';
import type { TestContext } from '../helpers/context.js';
import { collect, nextReply, serviceError } from '../helpers/echo-client.js';
import { echoMethodPath } from '../helpers/echo-proto.js';
import { connectClient, startBackends } from '../helpers/harness.js';
import { HealthClient } from '../helpers/health-client.js';
import { proxyConfig, startProxy, type RunningProxy } from '../helpers/proxy.js';
import { grpcRequest, rawSession } from '../helpers/raw-client.js';
import { adminRequest } from '../helpers/reload.js';

async function drainableProxy(
  t: TestContext,
  drain: Pick<Config, 'drain_delay' | 'drain_timeout'>,
): Promise<RunningProxy & { readonly admin: string }> {
  const [b1] = await startBackends(t, ['b1']);
  if (b1 === undefined) throw new Error('backend');
  const running = await startProxy(
    t,
    proxyConfig([b1.address], { config: { admin: { address: '127.0.0.1:0' }, ...drain } }),
  );
  const admin = running.proxy.adminAddress;
  if (admin === undefined) throw new Error('admin');
  return { ...running, admin: `http://127.0.0.1:${admin.port}` };
}

void t.test('drain_delay: not ready, NOT_SERVING, calls still taken', async (t) => {
  const running = await drainableProxy(t, { drain_delay: '500ms', drain_timeout: '5s' });
  const client = connectClient(t, running.address);
  const health = new HealthClient(running.address);
  t.teardown(() => health.close());
  t.equal((await adminRequest(running.admin, '/readyz')).status, 200);
  t.equal(await health.check(''), 'SERVING');
  const open = client.bidi();
  open.write({ message: 'before' });
  await nextReply(open);

  const drained = running.proxy.drain();
  t.equal((await adminRequest(running.admin, '/readyz')).status, 503);
  t.equal(await health.check(''), 'NOT_SERVING');
  t.equal((await client.unary({ message: 'during the delay' })).reply.backend, 'b1');
  open.write({ message: 'during' });
  t.equal((await nextReply(open)).message, 'during');
  open.end();
  t.equal((await collect(open)).status.code, grpc.status.OK);
  await drained;
});

void t.test('two GOAWAYs: last-stream-id 2^31-1, then the real one', async (t) => {
  const running = await drainableProxy(t, { drain_timeout: '10s' });
  const session = await rawSession(t, running.address);
  const goaways: [number, number][] = [];
  const twoGoaways = new Promise<void>((resolve) => {
    session.on('goaway', (code: number, lastStreamId: number) => {
      goaways.push([code, lastStreamId]);
      if (goaways.length === 2) resolve();
    });
  });
  const stream = grpcRequest(session, echoMethodPath('Bidi'));
  const responded = new Promise<void>((resolve) => stream.once('response', () => resolve()));
  stream.write(Buffer.from([0, 0, 0, 0, 0]));
  await responded;
  const trailers = new Promise<http2.IncomingHttpHeaders>((resolve) =>
    stream.once('trailers', resolve),
  );
  stream.resume();

  const drained = running.proxy.drain();
  await twoGoaways;
  t.same(goaways, [
    [http2.constants.NGHTTP2_NO_ERROR, 2 ** 31 - 1],
    [http2.constants.NGHTTP2_NO_ERROR, stream.id],
  ]);
  stream.end();
  t.equal((await trailers)['grpc-status'], '0', 'the stream in flight finished OK');
  await drained;
});

void t.test('drain_timeout: calls still in flight end UNAVAILABLE', async (t) => {
  const running = await drainableProxy(t, { drain_timeout: '200ms' });
  const client = connectClient(t, running.address);
  const open = client.bidi();
  open.write({ message: 'held open' });
  await nextReply(open);
  const drained = running.proxy.drain();
  const error = await serviceError(collect(open));
  t.equal(error.code, grpc.status.UNAVAILABLE);
  t.match(error.details, /shutting down/);
  await drained;
});
