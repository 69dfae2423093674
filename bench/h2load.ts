/** Runs h2load against a target and parses what it prints and logs. */
import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { grpcFrame } from './grpc-frame.js';

const run = promisify(execFile);

export interface H2loadResult {
  readonly requests: number;
  readonly succeeded: number;
  readonly failed: number;
  readonly seconds: number;
  readonly reqPerSec: number;
  readonly dataBytes: number;
  readonly p50Ms: number;
  readonly p99Ms: number;
}

const dir = mkdtempSync(join(tmpdir(), 'switchyard-bench-'));
const bodyFile = join(dir, 'request.bin');
writeFileSync(bodyFile, grpcFrame(Buffer.from('switchyard bench request')));

export async function h2load(
  cpu: number,
  port: number,
  requests: number,
  clients: number,
  streamsPerClient: number,
): Promise<H2loadResult> {
  const logFile = join(dir, `h2load-${port}-${Date.now()}.log`);
  const { stdout } = await run(
    'taskset',
    [
      '-c',
      String(cpu),
      'h2load',
      '-n',
      String(requests),
      '-c',
      String(clients),
      '-m',
      String(streamsPerClient),
      '-H',
      'content-type: application/grpc',
      '-H',
      'te: trailers',
      '-H',
      'grpc-timeout: 10S',
      '-d',
      bodyFile,
      `--log-file=${logFile}`,
      `http://127.0.0.1:${port}/bench.Bench/Unary`,
    ],
    { maxBuffer: 16 << 20 },
  );
  const num = (pattern: RegExp): number => {
    const match = pattern.exec(stdout);
    if (match === null) throw new Error(`h2load output not understood:\n${stdout}`);
    return Number(match[1]);
  };
  const latencies = readFileSync(logFile, 'utf8')
    .trim()
    .split('\n')
    .map((line) => Number(line.split('\t')[2]) / 1000)
    .sort((a, b) => a - b);
  const at = (q: number): number =>
    latencies[Math.min(latencies.length - 1, Math.floor(q * latencies.length))] ?? NaN;
  return {
    requests,
    succeeded: num(/(\d+) succeeded/),
    failed: num(/(\d+) failed/) + num(/(\d+) errored/),
    seconds: /finished in [\d.]+ms/.test(stdout)
      ? num(/finished in ([\d.]+)ms/) / 1000
      : num(/finished in ([\d.]+)s/),
    reqPerSec: num(/([\d.]+) req\/s/),
    dataBytes: num(/\((\d+)\) data/),
    p50Ms: at(0.5),
    p99Ms: at(0.99),
  };
}
