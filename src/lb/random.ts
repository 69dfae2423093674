/**
 * Weighted random: each available member is picked with probability
 * weight / (sum of available weights). No state, so it suits many proxies in
 * front of the same backends where round robin's per-process order would
 * line up. O(members) per pick.
 */
import type { LoadBalancer, Member, Pickable, RandomSource } from './load-balancer.js';

export class RandomPick<E extends Pickable> implements LoadBalancer<E> {
  readonly #members: readonly Member<E>[];
  readonly #random: RandomSource;

  constructor(members: readonly Member<E>[], random: RandomSource) {
    this.#members = members;
    this.#random = random;
  }

  pick(): E | undefined {
    return weightedRandom(this.#members, this.#random);
  }
}

/** One available member's endpoint, chosen with probability proportional to its weight. */
export function weightedRandom<E extends Pickable>(
  members: readonly Member<E>[],
  random: RandomSource,
): E | undefined {
  let total = 0;
  for (const member of members) if (member.endpoint.available) total += member.weight;
  if (total === 0) return undefined;
  let point = random() * total;
  let last: E | undefined;
  for (const member of members) {
    if (!member.endpoint.available) continue;
    last = member.endpoint;
    point -= member.weight;
    if (point < 0) return member.endpoint;
  }
  // Only reached through floating-point rounding at the very top of the range.
  return last;
}
