// GOAWAY from a backend: the session takes no new streams, its in-flight
// streams finish, new calls go to another session, and a stream the backend
// never processed is `upstream_refused_stream` (what transparent retry replays).
import { once } from 'node:events';
import http2 from 'node:http2';
import t from 'tap';
import type { TestContext } from '../helpers/context.js';
import { deadAddress } from '../helpers/harness.js';
import { proxyConfig, startProxy } from '../helpers/proxy.js';
import { rawCall, rawSession } from '../helpers/raw-client.js';
import {
  codeOf,
  PATH,
  poolCall,
  replyOk,
  startH2Backend,
  startPool,
  type BackendSession,
  type H2Backend,
} from '../helpers/upstream-backend.js';

const { NGHTTP2_NO_ERROR, NGHTTP2_ENHANCE_YOUR_CALM } = http2.constants;

/**
 * A backend whose first connection, on its 4th stream, sends GOAWAY with
 * last-stream-id = the 2nd stream's id, then (NO_ERROR) answers streams 1-2
 * and closes once they are done, or (any other code) answers nothing; later
 * connections answer everything.
 *
 * (It must not call close() right after goaway(): node:http2 then sends a
 * second GOAWAY whose last-stream-id is the last stream it received, higher
 * than the first; nghttp2 on our side treats that as a protocol error and
 * drops the connection, streams 1-2 included.)
 */
function goawayBackend(t: TestContext, code: number): Promise<H2Backend> {
  let first: BackendSession | undefined;
  return startH2Backend(t, {
    handler: (stream, session) => {
      first ??= session;
      if (session !== first) {
        replyOk(stream);
        return;
      }
      if (session.streams.length < 4) return;
      session.session.goaway(code, session.streams[1]?.id ?? 0);
      if (code !== NGHTTP2_NO_ERROR) return;
      const processed = session.streams.slice(0, 2);
      for (const held of processed) replyOk(held);
      void Promise.all(processed.map((p) => once(p, 'close'))).then(() => session.session.close());
    },
  });
}

void t.test('GOAWAY(NO_ERROR): processed streams finish, the rest are refused', async (t) => {
  const backend = await goawayBackend(t, NGHTTP2_NO_ERROR);
  const pool = startPool(t, backend.address);
  const calls = [];
  for (let i = 1; i <= 4; i++) {
    calls.push(poolCall(pool));
    await backend.streamsSeen(i);
  }
  const first = pool.sessions[0];
  const outcomes = await Promise.all(calls.map((c) => c.outcome));
  t.same(outcomes.map(codeOf), ['ok', 'ok', 'upstream_refused_stream', 'upstream_refused_stream']);
  t.match(outcomes[2]?.error?.message, /GOAWAY \(last-stream-id 3\) before processing stream 5/);
  t.equal(outcomes[2]?.error?.grpcStatus, 14, 'UNAVAILABLE if not retried');
  t.equal(first?.usable, false, 'the session takes no new streams');
  t.equal(first?.goawayLastStreamId, 3);

  const next = poolCall(pool);
  t.not(pool.sessions.at(-1), first, 'a new call goes to another session');
  t.equal(codeOf(await next.outcome), 'ok');
  t.equal(backend.sessions.length, 2, 'on a second connection');
  await backend.sessions[0]?.closed;
});

void t.test('GOAWAY(ENHANCE_YOUR_CALM): above last-stream-id refused, below lost', async (t) => {
  // node:http2 destroys the session on a GOAWAY with an error code, and every
  // stream closes with that code (11), not REFUSED_STREAM: the id decides.
  const backend = await goawayBackend(t, NGHTTP2_ENHANCE_YOUR_CALM);
  const pool = startPool(t, backend.address);
  const calls = [];
  for (let i = 1; i <= 4; i++) {
    calls.push(poolCall(pool));
    await backend.streamsSeen(i);
  }
  const outcomes = await Promise.all(calls.map((c) => c.outcome));
  t.same(outcomes.map(codeOf), [
    'upstream_connection_lost',
    'upstream_connection_lost',
    'upstream_refused_stream',
    'upstream_refused_stream',
  ]);
  t.equal(codeOf(await poolCall(pool).outcome), 'ok', 'the next call gets a new session');
});

void t.test('RST_STREAM(REFUSED_STREAM) is upstream_refused_stream', async (t) => {
  const backend = await startH2Backend(t, {
    handler: (stream) => stream.close(http2.constants.NGHTTP2_REFUSED_STREAM),
  });
  const pool = startPool(t, backend.address);
  const outcome = await poolCall(pool).outcome;
  t.equal(codeOf(outcome), 'upstream_refused_stream');
  t.equal(pool.sessions[0]?.usable, true, 'one refused stream leaves the session usable');
});

void t.test('a connection refused is upstream_connect_failed', async (t) => {
  const pool = startPool(t, await deadAddress());
  const outcome = await poolCall(pool).outcome;
  t.equal(codeOf(outcome), 'upstream_connect_failed');
  t.match(outcome.error?.message, /ECONNREFUSED/);
});

void t.test('GOAWAY during load through the proxy: no call fails', async (t) => {
  // The first connection GOAWAYs after 10 streams with last-stream-id = the
  // 10th, then closes gracefully once those are answered. Streams the proxy
  // sent after that were never processed; the lead's transparent retry
  // replays them on a new connection.
  let firstSession: BackendSession | undefined;
  const backend = await startH2Backend(t, {
    handler: (stream, session) => {
      firstSession ??= session;
      if (session !== firstSession) {
        replyOk(stream, 20);
        return;
      }
      if (session.streams.length > 10) return;
      replyOk(stream, 20);
      if (session.streams.length < 10) return;
      session.session.goaway(NGHTTP2_NO_ERROR, stream.id ?? 0);
      const processed = [...session.streams];
      void Promise.all(processed.map((p) => once(p, 'close'))).then(() => session.session.close());
    },
  });
  const { address } = await startProxy(t, proxyConfig([backend.address]));
  const client = await rawSession(t, address);
  t.equal((await rawCall(client, PATH)).grpcStatus, '0', 'warm-up');
  const replies = await Promise.all(Array.from({ length: 40 }, () => rawCall(client, PATH)));
  const failed = replies
    .map((r, i) => ({ call: i, status: r.grpcStatus, message: r.headers['grpc-message'] }))
    .filter((r) => r.status !== '0');
  t.same(failed, [], `failed calls: ${JSON.stringify(failed)}`);
  t.ok(backend.sessions.length >= 2, 'calls after the GOAWAY went to a new connection');
  const refused = (firstSession?.streams ?? []).filter((s) => s.rstCode === 7).length;
  t.comment(`first connection: ${firstSession?.streams.length} streams, ${refused} refused`);
});
