// Reconnect back-off: a connect failure holds the endpoint out of balancing
// (`connect_failure`), `acquire()` fails fast with upstream_connect_failed,
// and the pool reconnects on its own timer, so a restarted backend is used
// again without traffic; a backend killed mid-call fails its calls promptly.
import { once } from 'node:events';
import type { IncomingHttpHeaders } from 'node:http2';
import net, { type AddressInfo } from 'node:net';
import t from 'tap';
import { ProxyError } from '../../src/errors/proxy-error.js';
import { HealthFlags } from '../../src/health/health-flags.js';
import { deadAddress } from '../helpers/harness.js';
import { proxyConfig, startProxy } from '../helpers/proxy.js';
import { grpcMessage } from '../helpers/raw-backend.js';
import { rawCall, rawSession } from '../helpers/raw-client.js';
import { codeOf, PATH, poolCall, startH2Backend, startPool } from '../helpers/upstream-backend.js';

void t.test('a backend restarted on the same port is used again after ~1 s', async (t) => {
  const backend = await startH2Backend(t);
  // Panic mode off: with the default threshold a cluster with no endpoint
  // available would still try its one endpoint instead of holding it out.
  const { address } = await startProxy(
    t,
    proxyConfig([backend.address], { cluster: { panic_threshold: 0 } }),
  );
  const client = await rawSession(t, address);
  t.equal((await rawCall(client, PATH)).grpcStatus, '0', 'up');

  await backend.stop();
  // The first call after the kill may still meet the dying connection; the
  // one after it fails to connect, which starts the back-off and holds the
  // endpoint out, so a later call fails at once without trying.
  const failedAt = performance.now();
  const messages: string[] = [];
  for (let i = 0; i < 3 && !/no healthy endpoint/.test(messages.at(-1) ?? ''); i++) {
    const down = await rawCall(client, PATH);
    t.equal(down.grpcStatus, '14', `down, call ${i + 1}: UNAVAILABLE`);
    t.ok(down.elapsedMs < 1000, `failed fast (${Math.round(down.elapsedMs)} ms)`);
    messages.push(decodeURIComponent(String(down.headers['grpc-message'])));
  }
  t.ok(
    messages.some((m) => /ECONNREFUSED/.test(m)),
    'the connect failure was reported',
  );
  t.match(messages.at(-1), /no healthy endpoint/, `then held out: ${messages.join(' | ')}`);

  // No calls from here on: the pool's own back-off timer must find it.
  const reconnected = backend.nextSession();
  await backend.restart();
  await reconnected;
  const afterMs = performance.now() - failedAt;
  // First step: 1 s ± 20% after the failed attempt started.
  t.ok(afterMs >= 750, `not before the first back-off step (${Math.round(afterMs)} ms)`);
  t.ok(afterMs < 3000, `within a few seconds (${Math.round(afterMs)} ms)`);
  const sessionsBefore = backend.sessions.length;
  t.equal((await rawCall(client, PATH)).grpcStatus, '0', 'used again');
  t.equal(backend.sessions.length, sessionsBefore, 'on the connection the pool reopened');
});

void t.test('pool: connect failure sets connect_failure; reconnect clears it', async (t) => {
  const backend = await startH2Backend(t);
  await backend.stop();
  const health = new HealthFlags();
  const pool = startPool(t, backend.address, { backoff: { initialMs: 100, jitter: 0 } }, health);

  const first = await poolCall(pool).outcome;
  t.equal(codeOf(first), 'upstream_connect_failed');
  t.match(first.error?.message, /ECONNREFUSED/);
  t.equal(pool.inBackoff, true);
  t.same(health.sources(), ['connect_failure'], 'held out of balancing');

  let thrown: unknown;
  try {
    pool.acquire();
  } catch (error) {
    thrown = error;
  }
  t.ok(thrown instanceof ProxyError, 'acquire() throws a ProxyError');
  t.match(thrown, {
    code: 'upstream_connect_failed',
    message: /in reconnect back-off after "connect ECONNREFUSED .*"; next attempt in \d+ms/,
  });

  const reconnected = backend.nextSession();
  await backend.restart();
  await reconnected;
  t.equal(pool.inBackoff, false, 'back-off over');
  t.equal(health.available, true, 'connect_failure cleared');
  t.equal(codeOf(await poolCall(pool).outcome), 'ok');
});

void t.test('pool: reconnect attempts come further apart (×1.6)', async (t) => {
  // Accepts TCP, then closes at once: each attempt fails before SETTINGS.
  const attempts: number[] = [];
  let wake: (() => void) | undefined;
  const server = net.createServer((socket) => {
    attempts.push(performance.now());
    socket.destroy();
    if (attempts.length === 5) wake?.();
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  t.teardown(() => new Promise<void>((resolve) => server.close(() => resolve())));
  const fifth = new Promise<void>((resolve) => (wake = resolve));
  const address = `127.0.0.1:${(server.address() as AddressInfo).port}`;
  const pool = startPool(t, address, { backoff: { initialMs: 40, jitter: 0 } });
  const outcome = await poolCall(pool).outcome;
  t.equal(codeOf(outcome), 'upstream_connection_lost', 'connected, then lost before SETTINGS');
  await fifth;
  const gaps = attempts.slice(1).map((at, i) => at - (attempts[i] ?? 0));
  const expected = [40, 64, 102.4, 163.84];
  // Gaps are measured at accept, steps run from each attempt's start: a
  // busy machine that accepts one attempt late shortens the next gap. The
  // sum of the gaps is off by the first accept's lag only.
  gaps.forEach((gap, i) => {
    const step = expected[i] ?? 0;
    t.ok(gap >= step - 25, `gap ${i + 1}: ${Math.round(gap)} ms ≈ ${step} ms or more`);
  });
  const total = gaps.reduce((sum, gap) => sum + gap, 0);
  t.ok(total >= 370 - 25, `attempts 1 to 5 span ${Math.round(total)} ms ≥ 370 ms`);
  t.ok((gaps[3] ?? 0) > (gaps[0] ?? 0), 'growing');
  await pool.close();
  const count = attempts.length;
  t.equal(pool.inBackoff, true);
  t.equal(attempts.length, count, 'close() stops the attempts');
});

void t.test('a dead endpoint is skipped by the balancer after its first failure', async (t) => {
  const live = await startH2Backend(t);
  const dead = await deadAddress();
  const { address } = await startProxy(t, proxyConfig([dead, live.address]));
  const client = await rawSession(t, address);
  const statuses = [];
  for (let i = 0; i < 6; i++) statuses.push((await rawCall(client, PATH)).grpcStatus);
  // The first call on the dead endpoint is replayed by the transparent retry
  // (upstream_connect_failed); every later call skips it.
  t.same(statuses, Array<string>(6).fill('0'));
  t.equal(
    live.sessions.reduce((n, s) => n + s.streams.length, 0),
    6,
  );
});

void t.test('a backend killed mid-stream gives the client UNAVAILABLE promptly', async (t) => {
  const backend = await startH2Backend(t, {
    handler: (stream) => {
      stream.respond({ ':status': 200, 'content-type': 'application/grpc' });
      stream.write(grpcMessage(Buffer.from('first')));
    },
  });
  const { address } = await startProxy(t, proxyConfig([backend.address]));
  const client = await rawSession(t, address);
  const calls = Array.from({ length: 5 }, () => {
    const stream = client.request({
      ':method': 'POST',
      ':path': PATH,
      'content-type': 'application/grpc',
      te: 'trailers',
    });
    stream.end(grpcMessage(Buffer.alloc(0)));
    const firstMessage = once(stream, 'data');
    const trailers = new Promise<IncomingHttpHeaders | undefined>((resolve) => {
      let received: IncomingHttpHeaders | undefined;
      stream.on('trailers', (h: IncomingHttpHeaders) => (received = h));
      stream.on('error', () => undefined);
      stream.on('close', () => resolve(received));
    });
    return { firstMessage, trailers };
  });
  await Promise.all(calls.map((c) => c.firstMessage));
  const killedAt = performance.now();
  await backend.stop();
  const trailers = await Promise.all(calls.map((c) => c.trailers));
  const elapsed = performance.now() - killedAt;
  t.same(
    trailers.map((h) => h?.['grpc-status']),
    Array<string>(5).fill('14'),
    'UNAVAILABLE in trailers, after the first message',
  );
  t.ok(elapsed < 500, `within ${Math.round(elapsed)} ms of the kill`);
  t.match(
    decodeURIComponent(String(trailers[0]?.['grpc-message'])),
    /^upstream .*: connection closed/,
  );
});

void t.test('connect_failure is a health source of its own', (t) => {
  const flags = new HealthFlags();
  flags.set('connect_failure');
  flags.set('draining');
  flags.clear('connect_failure');
  t.same(flags.sources(), ['draining'], 'clearing it leaves the others');
  flags.clear('draining');
  flags.set('connect_failure');
  t.equal(flags.available, false);
  t.same(flags.sources(), ['connect_failure']);
  t.end();
});
