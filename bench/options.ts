/** `npm run bench` flags (docs/benchmark.md). */
import { parseArgs } from 'node:util';
import { DEFAULT_TARGETS, TARGETS } from './targets.js';
import { parseCountList } from './worker-counts.js';

export interface Options {
  readonly targets: readonly string[];
  readonly rounds: number;
  /** Seconds per unary run (h2load -D), unless requests is set. */
  readonly duration: number;
  readonly requests: number | undefined;
  /** h2load connections (-c); each count is a case of its own (e.g. many and few). */
  readonly connections: readonly number[];
  readonly streams: number;
  readonly streamMessages: number;
  /** Worker counts each Switchyard target runs at (`--workers 1,2`). */
  readonly workers: readonly number[];
  /** The backends' HTTP/2 stack: `switchyard` (engine-backend.ts, default) or `nodejs` (fast-backend.ts). */
  readonly backend: 'switchyard' | 'nodejs';
}

const USAGE = `npm run bench -- [--targets ${DEFAULT_TARGETS.join(',')}] [--rounds 3]
  [--duration 5 | --requests N] [--connections 50[,2,...]] [--streams 10]
  [--stream-messages 20000] [--workers 1[,2,...]] [--backend switchyard|nodejs]
targets: ${TARGETS.map((t) => t.name).join(', ')}
`;

function usageError(message: string): never {
  process.stderr.write(`bench: ${message}\n${USAGE}`);
  process.exit(2);
}

function positive(name: string, text: string | undefined, fallback: number, min = 1): number {
  if (text === undefined) return fallback;
  const value = Number(text);
  if (!Number.isFinite(value) || value < min) {
    usageError(`--${name} must be a number >= ${min}, not ${text}`);
  }
  return value;
}

function countList(name: string, text: string | undefined, fallback: number): number[] {
  if (text === undefined) return [fallback];
  const parsed = parseCountList(text);
  return typeof parsed === 'string' ? usageError(`--${name} ${parsed}`) : parsed;
}

export function options(): Options {
  const { values } = parseArgs({
    options: {
      targets: { type: 'string' },
      rounds: { type: 'string' },
      duration: { type: 'string' },
      requests: { type: 'string' },
      connections: { type: 'string' },
      streams: { type: 'string' },
      'stream-messages': { type: 'string' },
      workers: { type: 'string' },
      backend: { type: 'string' },
      help: { type: 'boolean' },
    },
  });
  if (values.help === true) {
    process.stdout.write(USAGE);
    process.exit(0);
  }
  const targets = (values.targets ?? DEFAULT_TARGETS.join(','))
    .split(',')
    .map((t) => t.trim())
    .filter(Boolean);
  const backend = values.backend ?? 'switchyard';
  if (backend !== 'switchyard' && backend !== 'nodejs') {
    usageError(`--backend must be switchyard or nodejs, not ${backend}`);
  }
  const unknown = targets.filter((t) => !TARGETS.some((spec) => spec.name === t));
  if (unknown.length > 0 || targets.length === 0) {
    usageError(`unknown targets ${unknown.join(', ')}`);
  }
  return {
    targets: [...new Set(targets)],
    rounds: Math.floor(positive('rounds', values.rounds, 3)),
    duration: positive('duration', values.duration, 5),
    requests:
      values.requests === undefined
        ? undefined
        : Math.floor(positive('requests', values.requests, 0)),
    connections: countList('connections', values.connections, 50),
    streams: Math.floor(positive('streams', values.streams, 10)),
    streamMessages: Math.floor(positive('stream-messages', values['stream-messages'], 20000, 0)),
    workers: countList('workers', values.workers, 1),
    backend,
  };
}
