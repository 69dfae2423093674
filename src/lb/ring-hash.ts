/**
 * Ring hash (consistent hashing): each member gets `VNODES_PER_WEIGHT *
 * weight` points on a 32-bit ring, at the hashes of `key#0`, `key#1`, … (its
 * `host:port`). A call hashes the configured header's value and goes to the
 * first point at or after it, walking on past unavailable members. So the
 * same header value keeps landing on the same endpoint, and adding one
 * endpoint of N moves only about 1/N of the values (those now nearer its
 * points); removing one moves only the values it had. Calls without the
 * header are spread by weighted random.
 *
 * The ring is built once per cluster (O(V log V) for V points); a pick is a
 * binary search plus a short walk.
 */
import { headerValue } from '../listener/header-value.js';
import type { LoadBalancer, Member, Pickable, PickRequest, RandomSource } from './load-balancer.js';
import { weightedRandom } from './random.js';

export const VNODES_PER_WEIGHT = 100;

export class RingHash<E extends Pickable> implements LoadBalancer<E> {
  readonly #members: readonly Member<E>[];
  readonly #random: RandomSource;
  readonly #header: string;
  /** Ring points in ascending hash order, and the member index of each. */
  readonly #hashes: Uint32Array;
  readonly #owners: Uint32Array;

  constructor(members: readonly Member<E>[], random: RandomSource, header: string) {
    this.#members = members;
    this.#random = random;
    this.#header = header.toLowerCase();
    const points: { hash: number; owner: number }[] = [];
    members.forEach((member, owner) => {
      const key = member.key ?? String(owner);
      const count = VNODES_PER_WEIGHT * member.weight;
      for (let i = 0; i < count; i++) points.push({ hash: hash32(`${key}#${i}`), owner });
    });
    // Equal hashes are ordered by owner so the ring does not depend on insertion order.
    points.sort((a, b) => a.hash - b.hash || a.owner - b.owner);
    this.#hashes = Uint32Array.from(points, (p) => p.hash);
    this.#owners = Uint32Array.from(points, (p) => p.owner);
  }

  pick(request: PickRequest): E | undefined {
    const value = headerValue(request.headers, this.#header);
    if (value === undefined) return weightedRandom(this.#members, this.#random);
    if (!this.#members.some((m) => m.endpoint.available)) return undefined;
    const hashes = this.#hashes;
    const size = hashes.length;
    let index = lowerBound(hashes, hash32(value));
    for (let step = 0; step < size; step++, index++) {
      if (index >= size) index = 0;
      const endpoint = this.#members[this.#owners[index] ?? 0]?.endpoint;
      if (endpoint?.available === true) return endpoint;
    }
    return undefined;
  }
}

/** First index whose hash is >= `target` (hashes.length if none). */
function lowerBound(hashes: Uint32Array, target: number): number {
  let lo = 0;
  let hi = hashes.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if ((hashes[mid] ?? 0) < target) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

/**
 * FNV-1a 32-bit over the UTF-16 code units, then murmur3's finaliser so that
 * keys differing only in their last characters (`a#1`, `a#2`) spread over
 * the whole ring. Unsigned 32-bit result.
 */
export function hash32(text: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) {
    h ^= text.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h >>> 0;
}
