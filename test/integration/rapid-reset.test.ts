/**
 * Rapid reset (CVE-2023-44487): a client that opens and resets streams in a
 * burst is cut off with GOAWAY ENHANCE_YOUR_CALM by the proxy's own
 * detector, long before node's built-in limit (about 1000 resets), opens a
 * bounded number of backend streams, and a well-behaved grpc-js client on
 * another connection keeps being served with little extra latency.
 */
import http2 from 'node:http2';
import { Worker } from 'node:worker_threads';
import t from 'tap';
import type { Config } from '../../src/config/schema.js';
import { startBackends, connectClient } from '../helpers/harness.js';
import { LISTENER_NAME, startProxy } from '../helpers/proxy.js';
import { replyOk, startRawBackend } from '../helpers/raw-backend.js';
import type { EchoClient } from '../helpers/echo-client.js';
import { ECHO_SERVICE_NAME } from '../helpers/echo-proto.js';

const ATTACK_PATH = '/attack.Target/Call';
const BURST = 10_000;
const RESETS_PER_SECOND = 100; // the default: bursts of 200
const CALLS = 1_000;
const CONCURRENCY = 4;

interface AttackResult {
  readonly goawayCode: number | undefined;
  /** Last stream id the proxy processed, from its GOAWAY: (id + 1) / 2 streams were opened. */
  readonly lastStreamId: number;
}

/**
 * The attacker runs in a worker thread, so that its own CPU work (10,000
 * request objects per burst) does not stall this thread's event loop,
 * where the proxy and the well-behaved client run. Plain JavaScript: a
 * worker does not go through tap's TypeScript loader. One connection after
 * another (at least one), each sending BURST streams opened and reset at
 * once, until `stop[0]` is set; each posts { goawayCode, lastStreamId }.
 */
const ATTACKER = `
const http2 = require('node:http2');
const { parentPort, workerData } = require('node:worker_threads');
const { address, burst, path, stop } = workerData;
async function round() {
  const session = http2.connect('http://' + address);
  session.on('error', () => undefined);
  await new Promise((resolve, reject) => {
    session.once('connect', resolve);
    session.once('error', reject);
  });
  let goawayCode;
  let lastStreamId = 0;
  session.once('goaway', (code, last) => { goawayCode = code; lastStreamId = last; });
  const closed = new Promise((resolve) => session.once('close', resolve));
  for (let i = 0; i < burst && !session.closed && !session.destroyed; i++) {
    try {
      const stream = session.request({ ':method': 'POST', ':path': path, 'content-type': 'application/grpc', te: 'trailers' });
      stream.on('error', () => undefined);
      stream.close(http2.constants.NGHTTP2_CANCEL);
    } catch {
      break;
    }
  }
  const timer = setTimeout(() => session.destroy(), 10000);
  await closed;
  clearTimeout(timer);
  parentPort.postMessage({ goawayCode, lastStreamId });
}
(async () => {
  do await round();
  while (Atomics.load(stop, 0) === 0);
})();
`;

function isAttackResult(value: unknown): value is AttackResult {
  return typeof value === 'object' && value !== null && 'lastStreamId' in value;
}

/** Starts the attacker; `stop()` ends it after its current connection and resolves with every result. */
function startAttacker(address: string): { stop: () => Promise<AttackResult[]> } {
  const stop = new Int32Array(new SharedArrayBuffer(4));
  const worker = new Worker(ATTACKER, {
    eval: true,
    workerData: { address, burst: BURST, path: ATTACK_PATH, stop },
  });
  const results: AttackResult[] = [];
  worker.on('message', (message: unknown) => {
    if (isAttackResult(message)) results.push(message);
  });
  const exited = new Promise<void>((resolve, reject) => {
    worker.once('error', reject);
    worker.once('exit', () => resolve());
  });
  return {
    stop: async () => {
      Atomics.store(stop, 0, 1);
      await exited;
      return results;
    },
  };
}

async function latencies(client: EchoClient, calls: number): Promise<number[]> {
  const out: number[] = [];
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < calls) {
      next++;
      const started = performance.now();
      const { reply } = await client.unary({ message: 'hi' });
      if (reply.message !== 'hi') throw new Error(`unexpected reply ${reply.message}`);
      out.push(performance.now() - started);
    }
  };
  await Promise.all(Array.from({ length: CONCURRENCY }, worker));
  return out;
}

/** Polls `read` every 50 ms until it stays the same for 300 ms (at most 5 s). */
async function settled(read: () => number): Promise<void> {
  const until = Date.now() + 5_000;
  let last = read();
  let since = Date.now();
  while (Date.now() < until && Date.now() - since < 300) {
    await new Promise((resolve) => setTimeout(resolve, 50));
    if (read() !== last) {
      last = read();
      since = Date.now();
    }
  }
}

function p99(values: readonly number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor(sorted.length * 0.99))] ?? Infinity;
}

void t.test(
  'rapid reset: GOAWAY ENHANCE_YOUR_CALM, bounded backend streams, others unharmed',
  async (t) => {
    const [echo] = await startBackends(t, ['b1']);
    if (echo === undefined) throw new Error('no backend');
    const raw = await startRawBackend(t, (call) => replyOk(call));
    const config: Config = {
      listeners: [
        { name: LISTENER_NAME, address: '127.0.0.1:0', limits: { max_concurrent_streams: 1000 } },
      ],
      routes: [
        { name: 'echo', match: { service: ECHO_SERVICE_NAME }, cluster: 'echo' },
        { name: 'attack', match: { prefix: '/attack.' }, cluster: 'attack' },
      ],
      clusters: [
        { name: 'echo', endpoints: [echo.address] },
        { name: 'attack', endpoints: [raw.address] },
      ],
    };
    const { address } = await startProxy(t, config);
    const client = connectClient(t, address);
    await client.unary({ message: 'warm-up' });

    const undisturbed = p99(await latencies(client, CALLS));

    // Attack connections one after another for as long as the good client runs.
    const attacker = startAttacker(address);
    const calls = await latencies(client, CALLS).catch((error: unknown) =>
      error instanceof Error ? error : new Error(String(error)),
    );
    const results = await attacker.stop();
    if (calls instanceof Error) throw calls;
    const underAttack = calls;
    const attacked = p99(underAttack);

    // Node's own limit is about 1000 resets (then INTERNAL_ERROR); ours is a bucket of 2 s × 100/s.
    const limit = RESETS_PER_SECOND * 2;
    const streamsPerConnection = results.map((r) => (r.lastStreamId + 1) / 2);
    t.ok(results.length >= 1, `${results.length} attack connections`);
    t.same(
      results.map((r) => r.goawayCode),
      results.map(() => http2.constants.NGHTTP2_ENHANCE_YOUR_CALM),
      'every attack connection got GOAWAY ENHANCE_YOUR_CALM',
    );
    const most = Math.max(...streamsPerConnection);
    t.ok(
      most <= limit * 2,
      `at most ${most} streams accepted per attack connection (limit ${limit})`,
    );
    // Wait for the backend count to settle, then bound it: no more than the
    // streams the proxy accepted before the cut.
    await settled(() => raw.streams.length);
    const accepted = streamsPerConnection.reduce((a, b) => a + b, 0);
    t.ok(
      raw.streams.length <= accepted,
      `backend saw ${raw.streams.length} streams for ${results.length} × ${BURST} resets (accepted ${accepted})`,
    );
    // Attack streams never end their request, so each backend stream stays open
    // until the proxy cancels it: all of them must close, almost all with
    // CANCEL. One of 810 ended with NO_ERROR once, on Node 26; probably its
    // upstream connection (retired after spending its reset budget) closed
    // at the same moment, but that was not traced. Any other code fails.
    const codes = await Promise.race([
      Promise.all(raw.streams.map((s) => s.closed)),
      new Promise<undefined>((resolve) => setTimeout(() => resolve(undefined), 10_000).unref()),
    ]);
    const byCode = new Map<number, number>();
    for (const code of codes ?? []) byCode.set(code, (byCode.get(code) ?? 0) + 1);
    const seen = codes === undefined ? 'not all closed' : JSON.stringify([...byCode]);
    t.ok(codes !== undefined, `every backend stream of the attack closed (${seen})`);
    const cancelled = byCode.get(http2.constants.NGHTTP2_CANCEL) ?? 0;
    const others =
      (codes?.length ?? 0) - cancelled - (byCode.get(http2.constants.NGHTTP2_NO_ERROR) ?? 0);
    t.ok(
      others === 0 && cancelled >= 0.99 * (codes?.length ?? 0),
      `with RST_STREAM CANCEL, bar a rare NO_ERROR at a connection's close (${seen})`,
    );
    // The proxy, its backends, the good client and the attacker share 2 cores
    // with other work: on this machine (load average ~10) the event loop of an
    // idle test process stalls up to a few hundred ms now and then, so the
    // undisturbed p99 itself ranges 12-75 ms. Under attack, run alone, the
    // p99 measured 92-248 ms in 11 runs of one build and 93-372 ms in 22 runs
    // of a later one (4 above the old +250 ms floor; a fresh-clone CI run,
    // with the other test job going, 302 ms against 23 ms). The bound (5× the
    // undisturbed p99, at least +500 ms) passes that noise but fails a proxy
    // that stalls for a whole flood: each attack connection sends 10,000
    // streams, and serving them all costs seconds.
    const bound = Math.max(5 * undisturbed, undisturbed + 500);
    t.ok(
      attacked < bound,
      `p99 ${attacked.toFixed(1)} ms under attack vs ${undisturbed.toFixed(1)} ms undisturbed (bound ${bound.toFixed(1)})`,
    );
    t.equal(underAttack.length, CALLS, 'every call under attack succeeded');
  },
);
