/** Runs h2load against a target and parses what it prints and logs. */
import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { grpcFrame } from './grpc-frame.js';

const run = promisify(execFile);

/** The deadline every bench call carries (parsed, forwarded and enforced by the proxies). */
export const GRPC_TIMEOUT = '5S';

export interface H2loadLoad {
  /** `taskset -c`: a CPU or a CPU list. */
  readonly cpu: number | string;
  readonly port: number;
  readonly clients: number;
  readonly streamsPerClient: number;
  /** Timing-based run (h2load -D) of this many seconds, or a fixed number of calls (-n). */
  readonly amount: { readonly seconds: number } | { readonly requests: number };
}

export interface H2loadResult {
  /** Calls that completed (in -D mode: within the measured duration). */
  readonly succeeded: number;
  readonly failed: number;
  /** Responses whose headers arrived with a 2xx status (in -D mode this counts calls cut off at the end too). */
  readonly responses2xx: number;
  readonly seconds: number;
  readonly reqPerSec: number;
  readonly dataBytes: number;
  readonly p50Ms: number;
  readonly p99Ms: number;
  /** h2load's "requests: ..." and "status codes: ..." lines, for error messages. */
  readonly summary: string;
}

const dir = mkdtempSync(join(tmpdir(), 'switchyard-bench-'));
const bodyFile = join(dir, 'request.bin');
writeFileSync(bodyFile, grpcFrame(Buffer.from('switchyard bench request')));
let runs = 0;

export async function h2load(load: H2loadLoad): Promise<H2loadResult> {
  const logFile = join(dir, `h2load-${load.port}-${++runs}.log`);
  const amount =
    'seconds' in load.amount
      ? ['-D', String(load.amount.seconds)]
      : ['-n', String(load.amount.requests)];
  const { stdout } = await run(
    'taskset',
    [
      '-c',
      String(load.cpu),
      'h2load',
      ...amount,
      '-c',
      String(load.clients),
      '-m',
      String(load.streamsPerClient),
      '-H',
      'content-type: application/grpc',
      '-H',
      'te: trailers',
      '-H',
      `grpc-timeout: ${GRPC_TIMEOUT}`,
      '-d',
      bodyFile,
      `--log-file=${logFile}`,
      `http://127.0.0.1:${load.port}/bench.Bench/Unary`,
    ],
    { maxBuffer: 16 << 20 },
  );
  const num = (pattern: RegExp): number => {
    const match = pattern.exec(stdout);
    if (match === null) throw new Error(`h2load output not understood:\n${stdout}`);
    return Number(match[1]);
  };
  // Log lines: start time (us), HTTP status (0: not completed), duration (us).
  const latencies = readFileSync(logFile, 'utf8')
    .trim()
    .split('\n')
    .map((line) => line.split('\t'))
    .filter((fields) => fields[1] !== '0')
    .map((fields) => Number(fields[2]) / 1000)
    .sort((a, b) => a - b);
  const at = (q: number): number =>
    latencies[Math.min(latencies.length - 1, Math.floor(q * latencies.length))] ?? NaN;
  return {
    succeeded: num(/(\d+) succeeded/),
    failed: num(/(\d+) failed/), // h2load counts errored calls among the failed
    responses2xx: num(/status codes: (\d+) 2xx/),
    seconds: /finished in [\d.]+ms/.test(stdout)
      ? num(/finished in ([\d.]+)ms/) / 1000
      : num(/finished in ([\d.]+)s/),
    reqPerSec: num(/([\d.]+) req\/s/),
    dataBytes: num(/\((\d+)\) data/),
    p50Ms: at(0.5),
    p99Ms: at(0.99),
    summary: stdout
      .split('\n')
      .filter((line) => /^(requests|status codes):/.test(line))
      .join('; '),
  };
}
