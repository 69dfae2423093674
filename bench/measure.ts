/** One measured round of one target: a unary h2load run, then (optionally) the streaming case. */
import { h2load } from './h2load.js';
import { treeCpuSeconds } from './process-tree-cpu.js';
import { UNARY_REPLY_LENGTH } from './reply-size.js';
import type { Options } from './options.js';
import type { RoundResult } from './report.js';
import { streamLoad } from './stream-load.js';
import type { RunningTarget } from './targets.js';
import { readWorkerCalls, spread } from './worker-spread.js';

const STREAMS = 8;
const STREAM_MESSAGE_SIZE = 1024;

export interface Case {
  /** The CPU list h2load is pinned to. */
  readonly loadCpu: number;
  /** h2load connections of this case. */
  readonly connections: number;
  /** Whether this round also runs the streaming case. */
  readonly stream: boolean;
}

function log(line: string): void {
  process.stderr.write(`bench: ${line}\n`);
}

async function scrape(url: string): Promise<string> {
  try {
    const response = await fetch(url);
    const body = await response.text();
    return response.status === 200 ? `ok ${body.length} B` : `HTTP ${response.status}`;
  } catch (error) {
    return `failed: ${error instanceof Error ? error.message : String(error)}`;
  }
}

export async function measure(
  name: string,
  target: RunningTarget,
  opts: Options,
  run: Case,
): Promise<RoundResult> {
  const load = {
    cpu: run.loadCpu,
    port: target.port,
    clients: run.connections,
    streamsPerClient: opts.streams,
  };
  // Warm-up (JIT, sessions), not measured.
  await h2load({
    ...load,
    amount:
      opts.requests === undefined
        ? { seconds: Math.min(1, opts.duration) }
        : { requests: Math.min(5000, opts.requests) },
  });
  // The proxy's whole process tree: a primary and its workers, or the one process.
  const { pid } = target;
  const cpu = (): number => (pid === undefined ? 0 : treeCpuSeconds(pid));
  const scrapeAfterMs = opts.requests === undefined ? (opts.duration * 1000) / 2 : 500;
  const { metricsUrl, workerMetricsUrl } = target;
  // Read before the CPU reading and after the last one, so it costs no measured CPU.
  const callsBefore =
    workerMetricsUrl === undefined ? undefined : await readWorkerCalls(workerMetricsUrl);
  let scraped: Promise<string> | undefined;
  const timer =
    metricsUrl === undefined
      ? undefined
      : setTimeout(() => {
          scraped = scrape(metricsUrl);
        }, scrapeAfterMs);
  let cpu0 = cpu();
  const unary = await h2load({
    ...load,
    amount: opts.requests === undefined ? { seconds: opts.duration } : { requests: opts.requests },
  });
  const unaryCpu = cpu() - cpu0;
  clearTimeout(timer);
  const callsAfter =
    workerMetricsUrl === undefined ? undefined : await readWorkerCalls(workerMetricsUrl);
  const messages = unary.dataBytes / UNARY_REPLY_LENGTH;
  // A reply without a message is a trailers-only error that h2load counts as a success.
  // With -D, calls cut off at the end may have their headers and not yet their message.
  const withoutMessage =
    opts.requests === undefined
      ? Math.max(0, unary.responses2xx - messages)
      : unary.succeeded - messages;
  const tolerated = opts.requests === undefined ? run.connections * opts.streams : 0;
  if (unary.failed > 0 || withoutMessage > tolerated || unary.succeeded === 0) {
    throw new Error(
      `${unary.failed} calls failed; ${unary.dataBytes} data bytes for ${unary.responses2xx} ` +
        `2xx replies and ${unary.succeeded} successes (expected ${UNARY_REPLY_LENGTH} each): ` +
        `replies without a message are errors (h2load: ${unary.summary})`,
    );
  }
  const result: RoundResult = {
    callsPerSec: unary.reqPerSec,
    calls: unary.succeeded,
    p50Ms: unary.p50Ms,
    p99Ms: unary.p99Ms,
    proxyCpuSeconds: pid === undefined ? undefined : unaryCpu,
    callsPerCpuSecond: pid === undefined ? undefined : unary.succeeded / unaryCpu,
    metricsScrape: scraped === undefined ? undefined : await scraped,
    workerSpread:
      callsBefore === undefined || callsAfter === undefined
        ? undefined
        : spread(callsBefore, callsAfter),
  };
  log(`${name} -c ${run.connections}: ${result.callsPerSec.toFixed(0)} calls/s`);
  if (!run.stream || opts.streamMessages === 0) return result;
  cpu0 = cpu();
  const stream = await streamLoad(target.port, STREAMS, opts.streamMessages, STREAM_MESSAGE_SIZE);
  const streamCpu = cpu() - cpu0;
  const mb = stream.bytes / 1e6;
  log(`${name}: stream ${(mb / stream.seconds).toFixed(1)} MB/s`);
  return {
    ...result,
    streamMBps: mb / stream.seconds,
    streamMBPerCpuSecond: pid === undefined ? undefined : mb / streamCpu,
  };
}
