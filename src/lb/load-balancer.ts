/**
 * The seam between a cluster and its balancing policy. A policy sees the
 * cluster's members, asks each whether it is `available` (health flags fed by
 * active checks, outlier detection, breakers and draining), how many calls it
 * has in flight and whether it is draining, and picks one per call. Policies
 * never do I/O and never look at anything else, so they can be tested with
 * plain objects and an injected random source.
 */
import type { IncomingHttpHeaders } from 'node:http2';

export interface Pickable {
  readonly available: boolean;
  /** Calls in flight on this endpoint (for least_request). */
  readonly inFlight: number;
  /** Being drained: never picked, not even in panic mode. */
  readonly draining: boolean;
}

export interface Member<E extends Pickable> {
  readonly endpoint: E;
  /** Relative share of calls, >= 1. */
  readonly weight: number;
  /**
   * Stable identity of the endpoint (`host:port`), used by ring_hash to place
   * it on the ring. Defaults to the member's position in the list.
   */
  readonly key?: string;
}

/** What a policy may look at in the call it picks for. */
export interface PickRequest {
  readonly headers: IncomingHttpHeaders;
}

export interface LoadBalancer<E extends Pickable> {
  /** One endpoint for one call, or undefined when none is available. */
  pick(request: PickRequest): E | undefined;
}

export const LB_POLICY_NAMES = [
  'round_robin',
  'least_request',
  'random',
  'ring_hash',
  'pick_first',
] as const;

export type LbPolicyName = (typeof LB_POLICY_NAMES)[number];

/** A uniform random number in [0, 1), like Math.random. */
export type RandomSource = () => number;

/** Per-policy options, resolved (defaults applied) before a policy sees them. */
export interface LbOptions {
  readonly random: RandomSource;
  /** least_request: distinct endpoints sampled per pick, >= 2. */
  readonly choiceCount: number;
  /** ring_hash: the request header hashed (lower case); undefined → random. */
  readonly hashHeader: string | undefined;
  /** Percent of available endpoints below which all but draining ones are used; 0 = off. */
  readonly panicThreshold: number;
}

export const DEFAULT_LB_OPTIONS: LbOptions = {
  random: Math.random,
  choiceCount: 2,
  hashHeader: undefined,
  panicThreshold: 50,
};
