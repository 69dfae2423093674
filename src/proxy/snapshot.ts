/**
 * The immutable view of config that the data path reads: once per call, at
 * accept. A reload builds a new Snapshot and swaps the reference; calls in
 * flight keep the one they started with.
 */
import type { RouteTable } from '../router/route-table.js';
import type { Cluster } from '../upstream/cluster.js';

export interface Snapshot {
  readonly routes: RouteTable;
  readonly clusters: ReadonlyMap<string, Cluster>;
}
