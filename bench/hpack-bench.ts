/**
 * HPACK micro-benchmark: blocks per second for HpackEncoder.encode and
 * HpackDecoder.decode on the header blocks of a unary gRPC call (request
 * head, response head, trailers), in steady state (one encoder/decoder
 * pair, as on a connection: the dynamic table is warm) and cold (a new
 * pair per block: first call on a connection, literals and Huffman).
 * Run: `npm run build && node dist/bench/hpack-bench.js [--ms 1000]`.
 * Rates are per CPU-second of this process. A benchmark, never a test.
 */
import { parseArgs } from 'node:util';
import { HpackDecoder } from '../src/h2/hpack/hpack-decoder.js';
import { HpackEncoder } from '../src/h2/hpack/hpack-encoder.js';

const REQUEST_HEAD = [
  ':method',
  'POST',
  ':scheme',
  'http',
  ':path',
  '/pkg.Service/Method',
  ':authority',
  'backend.default.svc.cluster.local:50051',
  'content-type',
  'application/grpc',
  'te',
  'trailers',
  'user-agent',
  'grpc-node-js/1.14.0',
  'grpc-timeout',
  '999m',
  'grpc-accept-encoding',
  'identity,deflate,gzip',
];
const RESPONSE_HEAD = [
  ':status',
  '200',
  'content-type',
  'application/grpc',
  'grpc-accept-encoding',
  'identity,deflate,gzip',
  'grpc-encoding',
  'identity',
];
const TRAILERS = ['grpc-status', '0', 'grpc-message', ''];

interface Result {
  readonly name: string;
  readonly blocksPerSecond: number;
  readonly octets: number;
}

/** CPU time (user + system) used by this process so far, in microseconds. */
function cpuMicros(): number {
  const usage = process.cpuUsage();
  return usage.user + usage.system;
}

/**
 * Runs `body` in batches for `durationMs` of CPU time; returns calls per
 * CPU-second (CPU time, not wall time: the machine is shared, and time
 * spent descheduled is not ours).
 */
function measure(durationMs: number, body: () => void): number {
  for (let i = 0; i < 20_000; i++) body(); // warm-up (JIT)
  const batch = 1000;
  let calls = 0;
  const start = cpuMicros();
  const deadline = start + durationMs * 1000;
  let now = start;
  while (now < deadline) {
    for (let i = 0; i < batch; i++) body();
    calls += batch;
    now = cpuMicros();
  }
  return calls / ((now - start) / 1e6);
}

function steadyState(name: string, fields: readonly string[], durationMs: number): Result[] {
  const encoder = new HpackEncoder();
  const decoder = new HpackDecoder();
  decoder.decode(encoder.encode(fields)); // first block fills both tables
  const block = encoder.encode(fields);
  let sink = 0;
  const encode = measure(durationMs, () => {
    sink += encoder.encode(fields).length;
  });
  const decode = measure(durationMs, () => {
    sink += decoder.decode(block).length;
  });
  const both = measure(durationMs, () => {
    sink += decoder.decode(encoder.encode(fields)).length;
  });
  if (sink === 0) throw new Error('nothing encoded');
  return [
    { name: `${name} encode (warm table)`, blocksPerSecond: encode, octets: block.length },
    { name: `${name} decode (warm table)`, blocksPerSecond: decode, octets: block.length },
    { name: `${name} encode+decode (warm)`, blocksPerSecond: both, octets: block.length },
  ];
}

function cold(name: string, fields: readonly string[], durationMs: number): Result {
  const block = new HpackEncoder().encode(fields);
  let sink = 0;
  const both = measure(durationMs, () => {
    sink += new HpackDecoder().decode(new HpackEncoder().encode(fields)).length;
  });
  if (sink === 0) throw new Error('nothing encoded');
  return { name: `${name} encode+decode (cold)`, blocksPerSecond: both, octets: block.length };
}

function main(): void {
  const { values } = parseArgs({ options: { ms: { type: 'string', default: '1000' } } });
  const durationMs = Number(values.ms);
  const results: Result[] = [];
  for (const [name, fields] of [
    ['request head', REQUEST_HEAD],
    ['response head', RESPONSE_HEAD],
    ['trailers', TRAILERS],
  ] as const) {
    results.push(...steadyState(name, fields, durationMs), cold(name, fields, durationMs));
  }
  const callEncoder = new HpackEncoder();
  const callDecoder = new HpackDecoder();
  const call = measure(durationMs, () => {
    callDecoder.decode(callEncoder.encode(REQUEST_HEAD));
    callDecoder.decode(callEncoder.encode(RESPONSE_HEAD));
    callDecoder.decode(callEncoder.encode(TRAILERS));
  });
  console.log(`node ${process.version}, ${String(durationMs)} ms per row`);
  for (const result of results) {
    const rate = Math.round(result.blocksPerSecond).toLocaleString('en-US');
    console.log(
      `${result.name.padEnd(40)} ${rate.padStart(12)} blocks per CPU-s  (${String(result.octets)} octets)`,
    );
  }
  const callRate = Math.round(call).toLocaleString('en-US');
  console.log(
    `${'whole call: 3 blocks encoded+decoded'.padEnd(40)} ${callRate.padStart(12)} calls per CPU-s`,
  );
}

main();
