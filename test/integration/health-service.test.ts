/**
 * The proxy's own grpc.health.v1.Health (listener `health_service`), checked
 * with a real grpc-js client whose messages protobufjs encodes from
 * test/fixtures/grpc/health.proto.
 */
import * as grpc from '@grpc/grpc-js';
import t from 'tap';
import { serviceError } from '../helpers/echo-client.js';
import { ECHO_SERVICE_NAME } from '../helpers/echo-proto.js';
import { connectClient, deadAddress, proxiedEcho, startBackends } from '../helpers/harness.js';
import { HealthClient, WatchReader } from '../helpers/health-client.js';
import type { TestContext } from '../helpers/context.js';
import { CLUSTER_NAME, proxyConfig, startProxy } from '../helpers/proxy.js';
import type { Switchyard } from '../../src/app/switchyard.js';
import type { Endpoint } from '../../src/upstream/endpoint.js';

function healthClient(t: TestContext, address: string): HealthClient {
  const client = new HealthClient(address);
  t.teardown(() => client.close());
  return client;
}

function onlyEndpoint(proxy: Switchyard): Endpoint {
  const endpoint = proxy.cluster(CLUSTER_NAME)?.endpoints[0];
  if (endpoint === undefined) throw new Error('cluster echo has no endpoint');
  return endpoint;
}

void t.test('Check: "" is the proxy, a routed service follows its cluster', async (t) => {
  const { address } = await proxiedEcho(t, ['b1']);
  const health = healthClient(t, address);
  t.equal(await health.check(''), 'SERVING', 'the proxy itself');
  t.equal(await health.check(ECHO_SERVICE_NAME), 'SERVING', 'cluster has a live endpoint');
});

void t.test('Check on an unknown service fails with NOT_FOUND', async (t) => {
  const { address } = await proxiedEcho(t, ['b1']);
  const health = healthClient(t, address);
  const error = await serviceError(health.check('no.such.Service'));
  t.equal(error.code, grpc.status.NOT_FOUND);
  t.match(error.details, /unknown service no\.such\.Service/);
});

void t.test('Check: NOT_SERVING once the only endpoint failed to connect', async (t) => {
  const { proxy, address } = await startProxy(t, proxyConfig([await deadAddress()]));
  const health = healthClient(t, address);
  t.equal(await health.check(ECHO_SERVICE_NAME), 'SERVING', 'not known to be down yet');
  const client = connectClient(t, address);
  const failed = await serviceError(client.unary({ message: 'hi' }));
  t.equal(failed.code, grpc.status.UNAVAILABLE, 'the call to the dead endpoint failed');
  t.ok(onlyEndpoint(proxy).health.has('connect_failure'), 'the pool flagged the endpoint');
  t.equal(await health.check(ECHO_SERVICE_NAME), 'NOT_SERVING');
  t.equal(await health.check(''), 'SERVING', 'the proxy itself still serves');
});

void t.test('Watch streams each change of a routed service', async (t) => {
  const { proxy, address } = await proxiedEcho(t, ['b1']);
  const health = healthClient(t, address);
  const watch = new WatchReader(health.watch(ECHO_SERVICE_NAME));
  t.equal(await watch.next(), 'SERVING', 'current status at once');
  const endpoint = onlyEndpoint(proxy);
  endpoint.health.set('active_check');
  t.equal(await watch.next(), 'NOT_SERVING', 'the cluster lost its last endpoint');
  endpoint.health.clear('active_check');
  t.equal(await watch.next(), 'SERVING', 'and got it back');
  watch.stream.cancel();
  t.equal((await watch.status).code, grpc.status.CANCELLED);
});

void t.test('Watch on an unknown service sends SERVICE_UNKNOWN and stays open', async (t) => {
  const { address } = await proxiedEcho(t, ['b1']);
  const health = healthClient(t, address);
  const watch = new WatchReader(health.watch('no.such.Service'));
  t.equal(await watch.next(), 'SERVICE_UNKNOWN');
  // Still open: a Check on the same connection is answered, and only our cancel ends the Watch.
  t.equal(await health.check(''), 'SERVING');
  watch.stream.cancel();
  t.equal((await watch.status).code, grpc.status.CANCELLED, 'ended by the client, not the proxy');
});

void t.test(
  'shutdown: Watch gets NOT_SERVING, then UNAVAILABLE, and does not hold up close',
  { timeout: 15_000 },
  async (t) => {
    const { proxy, address } = await proxiedEcho(t, ['b1']);
    const health = healthClient(t, address);
    const watch = new WatchReader(health.watch(''));
    t.equal(await watch.next(), 'SERVING');
    // A grace far beyond the test's timeout: close must not wait for the Watch.
    const closing = proxy.close(60_000);
    t.equal(await watch.next(), 'NOT_SERVING');
    const status = await watch.status;
    t.equal(status.code, grpc.status.UNAVAILABLE);
    t.match(status.details, /shutting down/);
    await closing;
  },
);

void t.test('health_service: false routes health calls to the backend', async (t) => {
  const backends = await startBackends(t, ['b1']);
  const addresses = backends.map((b) => b.address);
  const routeAll = { route: { match: { prefix: '/' } } };
  const off = await startProxy(
    t,
    proxyConfig(addresses, { ...routeAll, listener: { health_service: false } }),
  );
  const error = await serviceError(healthClient(t, off.address).check(''));
  t.equal(error.code, grpc.status.UNIMPLEMENTED, 'the backend has no health service');
  t.match(error.details, /does not implement/, "grpc-js's answer, not the proxy's");

  const on = await startProxy(t, proxyConfig(addresses, routeAll));
  t.equal(await healthClient(t, on.address).check(''), 'SERVING', 'default: the proxy answers');
});
