/**
 * Plain-object endpoints and a seeded random source for load-balancer
 * algorithm tests: no sockets, no timers, the same sequence every run.
 */
import type { Member, PickRequest } from '../../src/lb/load-balancer.js';

export interface FakeEndpoint {
  readonly name: string;
  available: boolean;
  inFlight: number;
  draining: boolean;
}

/** mulberry32: a tiny deterministic PRNG with uniform output in [0, 1). */
export function mulberry32(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** A random source that returns `values` in turn (and fails the test past their end). */
export function scripted(values: readonly number[]): () => number {
  let next = 0;
  return () => {
    const value = values[next++];
    if (value === undefined) throw new Error(`scripted random ran out after ${values.length}`);
    return value;
  };
}

export interface FakeCluster {
  readonly members: Member<FakeEndpoint>[];
  readonly byName: Map<string, FakeEndpoint>;
  /** The endpoint named `name` (throws if there is none). */
  get(name: string): FakeEndpoint;
}

/** Members named and weighted by `weights`, in key order; `key` is the name (for ring_hash). */
export function fakeCluster(weights: Readonly<Record<string, number>>): FakeCluster {
  const byName = new Map<string, FakeEndpoint>();
  const members = Object.entries(weights).map(([name, weight]) => {
    const endpoint: FakeEndpoint = { name, available: true, inFlight: 0, draining: false };
    byName.set(name, endpoint);
    return { endpoint, weight, key: name };
  });
  return {
    members,
    byName,
    get(name) {
      const endpoint = byName.get(name);
      if (endpoint === undefined) throw new Error(`no endpoint ${name}`);
      return endpoint;
    },
  };
}

export const NO_HEADERS: PickRequest = { headers: {} };

/** Picks `n` times and counts the names picked (`(none)` for undefined). */
export function countPicks(
  pick: () => FakeEndpoint | undefined,
  n: number,
): Record<string, number> {
  const out: Record<string, number> = {};
  for (let i = 0; i < n; i++) {
    const key = pick()?.name ?? '(none)';
    out[key] = (out[key] ?? 0) + 1;
  }
  return out;
}
