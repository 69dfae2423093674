// Outlier detection end to end: real echo backends, one client connection,
// a backend failing INTERNAL in trailers after a response message gets
// ejected; one answering NOT_FOUND (an application status) does not.
import t from 'tap';
import * as grpc from '@grpc/grpc-js';
import { GrpcStatus } from '../../src/grpc/status.js';
import { startEchoBackend } from '../helpers/echo-backend.js';
import type { EchoClient } from '../helpers/echo-client.js';
import { connectClient } from '../helpers/harness.js';
import { CLUSTER_NAME, proxyConfig, startProxy } from '../helpers/proxy.js';

interface StreamEnd {
  readonly backend: string;
  readonly replies: number;
  readonly code: number;
}

/** One ServerStream call asking for one reply; which backend, how many replies, the status. */
function oneStream(client: EchoClient): Promise<StreamEnd> {
  return new Promise((resolve) => {
    const stream = client.serverStream({ message: 'probe', count: 1 });
    let backend = '';
    let replies = 0;
    stream.on('data', (reply: { backend: string }) => {
      backend = reply.backend;
      replies++;
    });
    stream.on('error', () => undefined);
    stream.on('status', (status: grpc.StatusObject) => {
      resolve({ backend, replies, code: status.code });
    });
  });
}

void t.test('INTERNAL after a message ejects; NOT_FOUND does not', async (t) => {
  const backends = await Promise.all([
    startEchoBackend('internal', { failCode: GrpcStatus.INTERNAL }),
    startEchoBackend('not-found', { failCode: GrpcStatus.NOT_FOUND }),
    startEchoBackend('ok'),
  ]);
  t.teardown(() => Promise.all(backends.map((b) => b.close())));
  const [failing, notFound, ok] = backends;
  const { proxy, address } = await startProxy(
    t,
    proxyConfig(
      backends.map((b) => b.address),
      {
        cluster: {
          lb_policy: 'round_robin',
          outlier_detection: { consecutive_failures: 3, base_ejection_time: '1m' },
        },
      },
    ),
  );
  const client = connectClient(t, address);
  const cluster = proxy.cluster(CLUSTER_NAME);
  const endpoint = (address: string) => cluster?.endpoints.find((e) => e.address === address);

  const first: StreamEnd[] = [];
  for (let i = 0; i < 9; i++) first.push(await oneStream(client));
  const fromFailing = first.filter((end) => end.backend === 'internal');
  t.equal(fromFailing.length, 3, 'round robin gave the failing backend 3 of 9 calls');
  t.ok(
    fromFailing.every((end) => end.replies === 1 && end.code === GrpcStatus.INTERNAL),
    'each got one message, then INTERNAL in trailers',
  );
  t.ok(
    first
      .filter((end) => end.backend === 'not-found')
      .every((end) => end.code === GrpcStatus.NOT_FOUND),
  );

  const ejected = endpoint(failing.address);
  t.same(ejected?.health.sources(), ['outlier'], 'only the outlier flag is set');
  t.equal(ejected?.outlier?.times_ejected, 1);
  t.equal(ejected?.outlier?.half_open, false);
  t.type(ejected?.outlier?.ejected_until, 'string');
  t.equal(ejected?.available, false);

  const later: StreamEnd[] = [];
  for (let i = 0; i < 6; i++) later.push(await oneStream(client));
  t.equal(failing.calls, 3, 'no further call reached the ejected backend');
  t.same(
    later.map((end) => end.backend).sort(),
    ['not-found', 'not-found', 'not-found', 'ok', 'ok', 'ok'],
    'calls alternate between the other two',
  );

  const kept = endpoint(notFound.address);
  t.equal(notFound.calls, 6);
  t.same(kept?.outlier, {
    consecutive_failures: 0,
    times_ejected: 0,
    ejected_until: null,
    half_open: false,
  });
  t.equal(kept?.available, true);
  t.equal(ok.calls, 6);
});

void t.test('without outlier_detection nothing is ejected and no view is kept', async (t) => {
  const backend = await startEchoBackend('internal', { failCode: GrpcStatus.INTERNAL });
  t.teardown(() => backend.close());
  const { proxy, address } = await startProxy(t, proxyConfig([backend.address]));
  const client = connectClient(t, address);
  for (let i = 0; i < 6; i++) t.equal((await oneStream(client)).code, GrpcStatus.INTERNAL);
  t.equal(backend.calls, 6);
  const endpoint = proxy.cluster(CLUSTER_NAME)?.endpoints[0];
  t.equal(endpoint?.outlier, null);
  t.same(endpoint?.health.sources(), []);
});
