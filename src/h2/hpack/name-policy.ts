/**
 * What the encoder knows about a header name, found with one map lookup
 * per field: its static table name index, its static (value → index) map,
 * and how its values are sent — indexed (the default), not indexed (values
 * that rarely repeat: they would only churn the dynamic table) or never
 * indexed (credentials and cookies, RFC 7541 §7.1.3).
 */
import { STATIC_FIELD_INDEX, STATIC_NAME_INDEX } from './static-table.js';

/** Literal with incremental indexing: later blocks send an index. */
export const INDEXED_VALUES = 0;
/** Literal without indexing. */
export const UNINDEXED_VALUES = 1;
/** Literal never indexed (§6.2.3): no hop may put it in a table. */
export const NEVER_INDEXED_VALUES = 2;
/**
 * `:path`: indexed unless it has a query. A gRPC path names the method, and
 * a client calls few methods many times (indexed, each call sends one
 * octet instead of the Huffman-coded path); a query string makes a path
 * that rarely repeats.
 */
export const PATH_VALUES = 3;

export type ValueIndexing =
  | typeof INDEXED_VALUES
  | typeof UNINDEXED_VALUES
  | typeof NEVER_INDEXED_VALUES
  | typeof PATH_VALUES;

export interface NamePolicy {
  /** Static table index of the name, 0 if none. */
  readonly staticNameIndex: number;
  /** Static entries with this name: value → index. */
  readonly staticValues: ReadonlyMap<string, number> | undefined;
  readonly indexing: ValueIndexing;
}

const NEVER_INDEXED_NAMES = ['authorization', 'proxy-authorization', 'cookie', 'set-cookie'];

/** Values that rarely repeat from one block to the next. */
const UNINDEXED_NAMES = [
  'grpc-timeout',
  'content-length',
  'grpc-message',
  'grpc-status-details-bin',
  'grpc-trace-bin',
  'traceparent',
  'tracestate',
  'x-request-id',
  'x-b3-traceid',
  'x-b3-spanid',
  'x-b3-parentspanid',
  'x-cloud-trace-context',
  'etag',
  'if-none-match',
  'if-modified-since',
  'last-modified',
  'content-range',
  'range',
  'age',
  'expires',
];

/** Policy of names not in NAME_POLICIES. */
export const DEFAULT_NAME_POLICY: NamePolicy = {
  staticNameIndex: 0,
  staticValues: undefined,
  indexing: INDEXED_VALUES,
};

/** Policies of the static table's names and of the names with a special rule. */
export const NAME_POLICIES: ReadonlyMap<string, NamePolicy> = buildPolicies();

function buildPolicies(): Map<string, NamePolicy> {
  const names = new Set([...STATIC_NAME_INDEX.keys(), ...NEVER_INDEXED_NAMES, ...UNINDEXED_NAMES]);
  const policies = new Map<string, NamePolicy>();
  for (const name of names) {
    const indexing: ValueIndexing = NEVER_INDEXED_NAMES.includes(name)
      ? NEVER_INDEXED_VALUES
      : UNINDEXED_NAMES.includes(name)
        ? UNINDEXED_VALUES
        : name === ':path'
          ? PATH_VALUES
          : INDEXED_VALUES;
    policies.set(name, {
      staticNameIndex: STATIC_NAME_INDEX.get(name) ?? 0,
      staticValues: STATIC_FIELD_INDEX.get(name),
      indexing,
    });
  }
  return policies;
}
