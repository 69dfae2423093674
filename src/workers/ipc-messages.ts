/**
 * The messages between the primary and its worker processes (docs/workers.md),
 * over node:cluster's IPC channel (JSON). Whatever arrives is `unknown` until
 * one of the `parse*` functions below has checked its shape; a message that
 * does not parse is logged and dropped, never trusted.
 */
import { isRecord } from '../config/is-record.js';
import type { Config } from '../config/schema.js';
import { validateConfigSchema } from '../config/schema-validator.js';
import type { NodeIssue, PathSegment } from '../config/yaml-locator.js';
import { isLogLevel } from '../log/logger.js';
import type { LevelWithSilent } from 'pino';

/** The primary's view of one endpoint's active health check. */
export interface HealthEntry {
  readonly cluster: string;
  readonly address: string;
  /** The primary's check lets the endpoint take calls (its `active_check` flag is clear). */
  readonly healthy: boolean;
}

/** One DNS answer the primary got (an empty list: the name has no records of this family). */
export interface DnsEntry {
  readonly name: string;
  readonly family: 4 | 6;
  readonly addresses: readonly string[];
}

/** What a worker is asked to report. */
export type ReportKind = 'metrics' | 'clusters';

export type ToWorker =
  | {
      readonly type: 'init';
      readonly worker: number;
      readonly logLevel: LevelWithSilent;
      readonly logPretty: boolean;
      readonly config: Config;
      readonly health: readonly HealthEntry[];
      readonly dns: readonly DnsEntry[];
    }
  | {
      readonly type: 'config';
      readonly seq: number;
      readonly config: Config;
      readonly health: readonly HealthEntry[];
      readonly dns: readonly DnsEntry[];
    }
  | ({ readonly type: 'health' } & HealthEntry)
  | ({ readonly type: 'dns' } & DnsEntry)
  | {
      readonly type: 'eject';
      readonly cluster: string;
      readonly address: string;
      readonly durationMs: number;
    }
  | { readonly type: 'report'; readonly seq: number; readonly kind: ReportKind }
  | { readonly type: 'drain' };

/** Why a worker could not apply a config. */
export interface ApplyFailure {
  readonly message: string;
  /** Config paths to blame (a listener that cannot bind), when known. */
  readonly issues: readonly NodeIssue[];
}

export type FromWorker =
  | { readonly type: 'hello' }
  | { readonly type: 'ready' }
  | { readonly type: 'applied'; readonly seq: number; readonly failure: ApplyFailure | null }
  | {
      readonly type: 'ejected';
      readonly cluster: string;
      readonly address: string;
      readonly durationMs: number;
    }
  | { readonly type: 'report'; readonly seq: number; readonly body: unknown };

function isString(value: unknown): value is string {
  return typeof value === 'string';
}

function isCount(value: unknown): value is number {
  return typeof value === 'number' && Number.isSafeInteger(value) && value >= 0;
}

function isDuration(value: unknown): value is number {
  return typeof value === 'number' && Number.isFinite(value) && value >= 0;
}

function healthEntry(value: unknown): HealthEntry | undefined {
  if (!isRecord(value)) return undefined;
  const { cluster, address, healthy } = value;
  if (!isString(cluster) || !isString(address) || typeof healthy !== 'boolean') return undefined;
  return { cluster, address, healthy };
}

function dnsEntry(value: unknown): DnsEntry | undefined {
  if (!isRecord(value)) return undefined;
  const { name, family, addresses } = value;
  if (!isString(name) || (family !== 4 && family !== 6)) return undefined;
  if (!Array.isArray(addresses) || !addresses.every(isString)) return undefined;
  return { name, family, addresses: [...addresses] };
}

/** Every element parsed by `parse`, or undefined when one does not parse. */
function listOf<T>(value: unknown, parse: (item: unknown) => T | undefined): T[] | undefined {
  if (!Array.isArray(value)) return undefined;
  const parsed: T[] = [];
  for (const item of value as unknown[]) {
    const entry = parse(item);
    if (entry === undefined) return undefined;
    parsed.push(entry);
  }
  return parsed;
}

function config(value: unknown): Config | undefined {
  return validateConfigSchema(value) ? value : undefined;
}

function pathSegment(value: unknown): PathSegment | undefined {
  return typeof value === 'string' || typeof value === 'number' ? value : undefined;
}

function nodeIssue(value: unknown): NodeIssue | undefined {
  if (!isRecord(value)) return undefined;
  const path = listOf(value['path'], pathSegment);
  const { at, message } = value;
  if (path === undefined || (at !== 'key' && at !== 'value') || !isString(message))
    return undefined;
  return { path, at, message };
}

function applyFailure(value: unknown): ApplyFailure | null | undefined {
  if (value === null) return null;
  if (!isRecord(value) || !isString(value['message'])) return undefined;
  const issues = listOf(value['issues'], nodeIssue);
  return issues === undefined ? undefined : { message: value['message'], issues };
}

/** A message from the primary, or undefined when `value` is not one. */
export function parseToWorker(value: unknown): ToWorker | undefined {
  if (!isRecord(value)) return undefined;
  switch (value['type']) {
    case 'init': {
      const parsed = config(value['config']);
      const health = listOf(value['health'], healthEntry);
      const dns = listOf(value['dns'], dnsEntry);
      const { worker, logLevel, logPretty } = value;
      if (parsed === undefined || health === undefined || dns === undefined) return undefined;
      if (!isCount(worker) || !isString(logLevel) || !isLogLevel(logLevel)) return undefined;
      if (typeof logPretty !== 'boolean') return undefined;
      return { type: 'init', worker, logLevel, logPretty, config: parsed, health, dns };
    }
    case 'config': {
      const parsed = config(value['config']);
      const health = listOf(value['health'], healthEntry);
      const dns = listOf(value['dns'], dnsEntry);
      const { seq } = value;
      if (parsed === undefined || health === undefined || dns === undefined || !isCount(seq))
        return undefined;
      return { type: 'config', seq, config: parsed, health, dns };
    }
    case 'health': {
      const entry = healthEntry(value);
      return entry === undefined ? undefined : { type: 'health', ...entry };
    }
    case 'dns': {
      const entry = dnsEntry(value);
      return entry === undefined ? undefined : { type: 'dns', ...entry };
    }
    case 'eject': {
      const { cluster, address, durationMs } = value;
      if (!isString(cluster) || !isString(address) || !isDuration(durationMs)) return undefined;
      return { type: 'eject', cluster, address, durationMs };
    }
    case 'report': {
      const { seq, kind } = value;
      if (!isCount(seq) || (kind !== 'metrics' && kind !== 'clusters')) return undefined;
      return { type: 'report', seq, kind };
    }
    case 'drain':
      return { type: 'drain' };
    default:
      return undefined;
  }
}

/** A message from a worker, or undefined when `value` is not one. */
export function parseFromWorker(value: unknown): FromWorker | undefined {
  if (!isRecord(value)) return undefined;
  switch (value['type']) {
    case 'hello':
      return { type: 'hello' };
    case 'ready':
      return { type: 'ready' };
    case 'applied': {
      const failure = applyFailure(value['failure']);
      const { seq } = value;
      if (!isCount(seq) || failure === undefined) return undefined;
      return { type: 'applied', seq, failure };
    }
    case 'ejected': {
      const { cluster, address, durationMs } = value;
      if (!isString(cluster) || !isString(address) || !isDuration(durationMs)) return undefined;
      return { type: 'ejected', cluster, address, durationMs };
    }
    case 'report': {
      const { seq } = value;
      if (!isCount(seq) || !('body' in value)) return undefined;
      return { type: 'report', seq, body: value['body'] };
    }
    default:
      return undefined;
  }
}
