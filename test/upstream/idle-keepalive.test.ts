// Idle and keepalive: a session with no streams for `idle_timeout` closes
// gracefully; with `keepalive`, PINGs go out while streams are open and a PING
// not answered in time destroys the session (its calls: connection lost).
import http2 from 'node:http2';
import t from 'tap';
import { ConfigError, formatIssue } from '../../src/config/config-error.js';
import { parseConfigText } from '../../src/config/load-config.js';
import { silentLogger } from '../../src/log/logger.js';
import { Cluster } from '../../src/upstream/cluster.js';
import { proxyConfig, startProxy } from '../helpers/proxy.js';
import { rawCall, rawSession } from '../helpers/raw-client.js';
import {
  codeOf,
  PATH,
  poolCall,
  replyOk,
  startH2Backend,
  startPool,
  startRelay,
  within,
} from '../helpers/upstream-backend.js';

void t.test('idle_timeout closes a session that carried no call for that long', async (t) => {
  const backend = await startH2Backend(t, { handler: (stream) => replyOk(stream, 300) });
  const { address } = await startProxy(
    t,
    proxyConfig([backend.address], { cluster: { idle_timeout: '150ms' } }),
  );
  const client = await rawSession(t, address);
  // A call twice as long as the idle timeout keeps its session.
  const callStarted = performance.now();
  t.equal((await rawCall(client, PATH)).grpcStatus, '0');
  const first = backend.sessions[0];
  t.equal(backend.sessions.length, 1);
  t.equal(first?.goawayCode, undefined, 'not closed while the call ran');

  await within(first?.closed ?? Promise.resolve(), 3_000, 'idle close');
  // Measured from the call's start, which surely precedes the idle period:
  // the client's own view of the call's end can lag the proxy's (one process).
  const sinceStart = performance.now() - callStarted;
  t.ok(sinceStart >= 300 + 140, `closed ${Math.round(sinceStart)} ms after the 300 ms call began`);
  t.equal(first?.goawayCode, 0, 'gracefully: GOAWAY(NO_ERROR) from the proxy');

  t.equal((await rawCall(client, PATH)).grpcStatus, '0', 'the next call works');
  t.equal(backend.sessions.length, 2, 'on a new connection');
});

void t.test('keepalive: PINGs while a stream is open, and the call succeeds', async (t) => {
  const backend = await startH2Backend(t, { handler: (stream) => replyOk(stream, 450) });
  const pool = startPool(t, backend.address, { keepalive: { intervalMs: 100, timeoutMs: 200 } });
  t.equal(codeOf(await poolCall(pool).outcome), 'ok');
  const pings = backend.sessions[0]?.pings ?? 0;
  t.ok(pings >= 2 && pings <= 5, `${pings} PINGs during a 450 ms call at a 100 ms interval`);
});

void t.test('keepalive: no PINGs without streams (keepalive without calls is off)', async (t) => {
  const backend = await startH2Backend(t);
  const pool = startPool(t, backend.address, { keepalive: { intervalMs: 50, timeoutMs: 200 } });
  t.equal(codeOf(await poolCall(pool).outcome), 'ok');
  // A second, slow backend call on another pool is our clock: 300 ms = 6 intervals.
  const clockBackend = await startH2Backend(t, { handler: (stream) => replyOk(stream, 300) });
  t.equal(codeOf(await poolCall(startPool(t, clockBackend.address)).outcome), 'ok');
  t.equal(backend.sessions[0]?.pings, 0, 'an idle session is not pinged');
});

void t.test('keepalive: an unanswered PING destroys the session; its call is lost', async (t) => {
  const backend = await startH2Backend(t, { handler: (stream) => stream.resume() });
  const relay = await startRelay(t, backend.address);
  const pool = startPool(t, relay.address, { keepalive: { intervalMs: 100, timeoutMs: 200 } });
  const call = poolCall(pool);
  await backend.streamsSeen(1);
  const session = pool.sessions[0];
  relay.blackHole();
  const holedAt = performance.now();
  const outcome = await within(call.outcome, 3_000, 'keepalive failure');
  const elapsed = performance.now() - holedAt;
  t.equal(codeOf(outcome), 'upstream_connection_lost');
  t.equal(outcome.error?.grpcStatus, 14, 'UNAVAILABLE');
  t.match(outcome.error?.message, /keepalive PING not answered within 200ms/);
  t.ok(elapsed >= 190 && elapsed < 1000, `failed ${Math.round(elapsed)} ms after the path died`);
  t.equal(session?.gone, true, 'the session is destroyed');
  t.equal(pool.inBackoff, false, 'a lost connection is not a connect failure');
});

void t.test('keepalive: GOAWAY too_many_pings doubles the interval (gRFC A8)', async (t) => {
  const backend = await startH2Backend(t, {
    handler: (stream) =>
      stream.session?.goaway(
        http2.constants.NGHTTP2_ENHANCE_YOUR_CALM,
        0,
        Buffer.from('too_many_pings'),
      ),
  });
  const pool = startPool(t, backend.address, {
    keepalive: { intervalMs: 10_000, timeoutMs: 20_000 },
  });
  const outcome = await poolCall(pool).outcome;
  // node:http2's goaway(code, 0) sends the last stream it processed (1), not 0.
  t.equal(codeOf(outcome), 'upstream_connection_lost', 'stream 1 was processed');
  t.match(outcome.error?.message, /connection closed after GOAWAY ENHANCE_YOUR_CALM/);
  t.same(pool.keepalive, { intervalMs: 20_000, timeoutMs: 20_000 });
});

void t.test('keepalive and idle_timeout reach the pool from the cluster config', (t) => {
  const cluster = (extra: object): Cluster =>
    new Cluster({ name: 'c', endpoints: ['127.0.0.1:1'], ...extra }, silentLogger());
  const on = cluster({ keepalive: { interval: '30s' } });
  t.same(on.endpoints[0]?.pool.keepalive, { intervalMs: 30_000, timeoutMs: 20_000 });
  const custom = cluster({ keepalive: { interval: '1m', timeout: '5s' } });
  t.same(custom.endpoints[0]?.pool.keepalive, { intervalMs: 60_000, timeoutMs: 5_000 });
  t.equal(cluster({}).endpoints[0]?.pool.keepalive, undefined, 'off by default');
  t.end();
});

void t.test('keepalive.interval below 10 s is rejected with its position (gRFC A8)', (t) => {
  const config = (interval: string): string =>
    [
      'listeners: [{ name: l, address: "127.0.0.1:0" }]',
      'routes: [{ name: r, match: {}, cluster: c }]',
      'clusters:',
      '  - name: c',
      '    endpoints: ["127.0.0.1:50051"]',
      '    idle_timeout: 30m',
      '    keepalive:',
      `      interval: ${interval}`,
      '',
    ].join('\n');
  const issues = (interval: string): string[] => {
    try {
      parseConfigText(config(interval), 'config.yaml');
      return [];
    } catch (error) {
      if (!(error instanceof ConfigError)) throw error;
      return error.issues.map(formatIssue);
    }
  };
  for (const ok of ['10s', '30s', '1m', '2h', '10000ms', '1m30s']) {
    t.same(issues(ok), [], `${ok} accepted`);
  }
  for (const tooShort of ['9s', '5s', '9999ms', '100ms']) {
    t.same(
      issues(tooShort),
      [
        `config.yaml:8:17 clusters[0].keepalive.interval: invalid interval "${tooShort}": expected at least 10s: how often to PING a backend while calls are in flight`,
      ],
      `${tooShort} rejected`,
    );
  }
  t.end();
});
