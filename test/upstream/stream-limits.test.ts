// The backend's SETTINGS_MAX_CONCURRENT_STREAMS: the pool counts streams per
// session, opens another session when every one is full (up to a cap), and
// never sends a new session more streams before the backend's SETTINGS than
// the backend allowed, so nothing is refused.
import t from 'tap';
import { proxyConfig, startProxy } from '../helpers/proxy.js';
import { rawCall, rawSession } from '../helpers/raw-client.js';
import {
  codeOf,
  drained,
  PATH,
  poolCall,
  replyOk,
  startH2Backend,
  startPool,
  until,
} from '../helpers/upstream-backend.js';

const SLOW_MS = 100;

void t.test(
  'MAX_CONCURRENT_STREAMS=1: 20 concurrent calls through the proxy, no error',
  async (t) => {
    const backend = await startH2Backend(t, {
      settings: { maxConcurrentStreams: 1 },
      handler: (stream) => replyOk(stream, SLOW_MS),
    });
    const { address } = await startProxy(t, proxyConfig([backend.address]));
    const client = await rawSession(t, address);
    // A first call teaches the pool the backend's limit.
    const first = await rawCall(client, PATH);
    t.equal(first.grpcStatus, '0', 'warm-up call');

    const replies = await Promise.all(Array.from({ length: 20 }, () => rawCall(client, PATH)));
    const statuses = replies.map((r) => r.grpcStatus);
    t.same(statuses, Array<string>(20).fill('0'), 'all 20 calls OK');
    t.ok(backend.sessions.length > 1, `the proxy opened ${backend.sessions.length} sessions`);
    t.ok(backend.sessions.length <= 16, 'no more than the per-endpoint cap');
    t.same(
      backend.sessions.map((s) => s.peak),
      backend.sessions.map(() => 1),
      'no session ever carried more than one stream at once',
    );
    const streams = backend.sessions.reduce((sum, s) => sum + s.streams.length, 0);
    t.equal(streams, 21, 'the backend saw each call once (nothing refused and replayed)');
    const slowest = Math.max(...replies.map((r) => r.elapsedMs));
    t.ok(slowest < 20 * SLOW_MS, `calls ran side by side (slowest ${Math.round(slowest)} ms)`);
  },
);

void t.test('pool: calls beyond every session’s limit open new sessions', async (t) => {
  const backend = await startH2Backend(t, {
    settings: { maxConcurrentStreams: 2 },
    handler: (stream) => replyOk(stream, SLOW_MS),
  });
  const pool = startPool(t, backend.address);
  t.equal(codeOf(await poolCall(pool).outcome), 'ok', 'warm-up');
  t.equal(pool.sessions[0]?.remoteStreamLimit, 2, 'the limit came from SETTINGS');
  await until(drained(pool), 'the warm-up stream closed');

  const calls = Array.from({ length: 7 }, () => poolCall(pool));
  t.same(
    pool.sessions.map((s) => s.activeStreams),
    [2, 2, 2, 1],
    'two streams per session, a fourth session for the seventh call',
  );
  const outcomes = await Promise.all(calls.map((c) => c.outcome));
  t.same(outcomes.map(codeOf), Array<string>(7).fill('ok'));
  await until(drained(pool), 'every stream closed');
  t.same(
    pool.sessions.map((s) => s.activeStreams),
    [0, 0, 0, 0],
    'every stream counted out on close',
  );
  t.ok(
    backend.sessions.every((s) => s.peak <= 2),
    'never above the backend’s limit',
  );
  t.equal(pool.acquire(), pool.sessions[0], 'idle again: the oldest session takes the next call');
});

void t.test('pool: at the session cap, the least-loaded session takes the call', async (t) => {
  const backend = await startH2Backend(t, {
    settings: { maxConcurrentStreams: 1 },
    handler: (stream) => replyOk(stream, SLOW_MS),
  });
  const pool = startPool(t, backend.address, { maxSessions: 3 });
  t.equal(codeOf(await poolCall(pool).outcome), 'ok', 'warm-up');
  await until(drained(pool), 'the warm-up stream closed');
  const calls = Array.from({ length: 7 }, () => poolCall(pool));
  t.equal(pool.sessions.length, 3, 'capped at 3 sessions');
  t.same(
    pool.sessions.map((s) => s.activeStreams),
    [3, 2, 2],
    'spread by load beyond the limit (nghttp2 queues the rest)',
  );
  const outcomes = await Promise.all(calls.map((c) => c.outcome));
  t.same(outcomes.map(codeOf), Array<string>(7).fill('ok'), 'queued calls still complete');
  t.equal(backend.sessions.length, 3);
  t.ok(
    backend.sessions.every((s) => s.peak === 1),
    'the queue is on our side',
  );
});

void t.test('pool: calls made while the first session connects are not refused', async (t) => {
  // Before SETTINGS the backend's limit is unknown: nghttp2 sends one stream
  // and holds the rest, where by default it would send 100 and see 9 refused.
  const backend = await startH2Backend(t, {
    settings: { maxConcurrentStreams: 1 },
    handler: (stream) => replyOk(stream, 10),
  });
  const pool = startPool(t, backend.address);
  const calls = Array.from({ length: 10 }, () => poolCall(pool));
  t.equal(pool.sessions.length, 1, 'one session until the backend’s limit is known');
  t.equal(pool.sessions[0]?.ready, false, 'still connecting');
  const outcomes = await Promise.all(calls.map((c) => c.outcome));
  t.same(outcomes.map(codeOf), Array<string>(10).fill('ok'), 'no REFUSED_STREAM');
  t.equal(backend.sessions[0]?.peak, 1);
});

void t.test('pool: the stream count survives resets and failures', async (t) => {
  let n = 0;
  const backend = await startH2Backend(t, {
    handler: (stream) => {
      n++;
      if (n % 2 === 0) stream.close(8 /* CANCEL */);
      else replyOk(stream);
    },
  });
  const pool = startPool(t, backend.address);
  const outcomes = await Promise.all(Array.from({ length: 10 }, () => poolCall(pool).outcome));
  t.equal(outcomes.filter((o) => o.ok).length, 5);
  await until(drained(pool), 'every stream closed');
  t.same(outcomes.filter((o) => !o.ok).map(codeOf), Array<string>(5).fill('upstream_cancelled'));
  t.equal(pool.sessions[0]?.activeStreams, 0, 'reset streams are counted out too');
  t.equal(pool.sessions[0]?.streamsOpened, 10);
});
