// Traffic splitting: a route's `clusters:` weights decide, per call, which
// cluster serves it, even when every call shares one client connection.
import t from 'tap';
import type { RouteConfig } from '../../src/config/schema.js';
import { connectClient, startBackends } from '../helpers/harness.js';
import { ECHO_SERVICE_NAME } from '../helpers/echo-proto.js';
import { proxyConfig, startProxy } from '../helpers/proxy.js';
import type { TestContext } from '../helpers/context.js';

/** Backends b1 (cluster v1) and b2 (cluster v2) behind one route split by `clusters`. */
async function splitProxy(t: TestContext, clusters: RouteConfig['clusters']) {
  const [b1, b2] = await startBackends(t, ['b1', 'b2']);
  if (b1 === undefined || b2 === undefined) throw new Error('backends did not start');
  const config = proxyConfig([b1.address], {
    config: {
      routes: [
        {
          name: 'split',
          match: { service: ECHO_SERVICE_NAME },
          ...(clusters === undefined ? {} : { clusters }),
        },
      ],
      clusters: [
        { name: 'v1', endpoints: [b1.address] },
        { name: 'v2', endpoints: [b2.address] },
      ],
    },
  });
  const { address } = await startProxy(t, config);
  return { client: connectClient(t, address), b1, b2 };
}

/** How many of `calls` unary calls each backend id answered, in order, on one connection. */
async function servedBy(
  client: ReturnType<typeof connectClient>,
  calls: number,
): Promise<Map<string, number>> {
  const counts = new Map<string, number>();
  for (let i = 0; i < calls; i++) {
    const { reply } = await client.unary({ message: `call ${i}` });
    counts.set(reply.backend, (counts.get(reply.backend) ?? 0) + 1);
  }
  return counts;
}

void t.test('a 90/10 split sends about 90% of calls to v1 and 10% to v2', async (t) => {
  const { client, b1, b2 } = await splitProxy(t, [
    { name: 'v1', weight: 90 },
    { name: 'v2', weight: 10 },
  ]);
  const counts = await servedBy(client, 1000);
  const one = counts.get('b1') ?? 0;
  const two = counts.get('b2') ?? 0;
  t.equal(one + two, 1000, 'every call answered by b1 or b2');
  // Binomial(1000, 0.9): sd ~9.5, so ±40 is over 4 sd.
  t.ok(Math.abs(one - 900) <= 40, `b1 served ${one} (900±40)`);
  t.ok(Math.abs(two - 100) <= 40, `b2 served ${two} (100±40)`);
  t.equal(b1.calls, one, 'b1 saw exactly the calls it answered');
  t.equal(b2.calls, two, 'b2 saw exactly the calls it answered');
});

void t.test('a one-entry split sends every call to that cluster', async (t) => {
  const { client, b1, b2 } = await splitProxy(t, [{ name: 'v2', weight: 1 }]);
  const counts = await servedBy(client, 50);
  t.same([...counts], [['b2', 50]]);
  t.equal(b1.calls, 0);
  t.equal(b2.calls, 50);
});
