/**
 * Least request, power of `choiceCount` choices: sample that many distinct
 * available members uniformly and take the one with the highest
 * weight / (inFlight + 1) (Envoy's rule with active_request_bias 1; with
 * equal weights that is the fewest calls in flight). Ties go to the first
 * sampled. Slow endpoints accumulate calls in flight and so get fewer new
 * ones. O(members) per pick.
 */
import type { LoadBalancer, Member, Pickable, RandomSource } from './load-balancer.js';

export class LeastRequest<E extends Pickable> implements LoadBalancer<E> {
  readonly #members: readonly Member<E>[];
  readonly #random: RandomSource;
  readonly #choiceCount: number;
  /** Scratch list of available member indices, reused across picks. */
  readonly #candidates: number[] = [];

  constructor(members: readonly Member<E>[], random: RandomSource, choiceCount: number) {
    if (!Number.isInteger(choiceCount) || choiceCount < 2) {
      throw new RangeError(
        `least_request choice_count must be an integer >= 2, got ${choiceCount}`,
      );
    }
    this.#members = members;
    this.#random = random;
    this.#choiceCount = choiceCount;
  }

  pick(): E | undefined {
    const members = this.#members;
    const candidates = this.#candidates;
    candidates.length = 0;
    for (let i = 0; i < members.length; i++) {
      if (members[i]?.endpoint.available === true) candidates.push(i);
    }
    const n = candidates.length;
    const k = Math.min(this.#choiceCount, n);
    let best: Member<E> | undefined;
    let bestScore = -Infinity;
    // Partial Fisher-Yates: the first k slots become k distinct samples.
    for (let i = 0; i < k; i++) {
      const j = Math.min(n - 1, i + Math.floor(this.#random() * (n - i)));
      const chosen = candidates[j] ?? 0;
      candidates[j] = candidates[i] ?? 0;
      candidates[i] = chosen;
      const member = members[chosen];
      if (member === undefined) continue;
      const score = member.weight / (member.endpoint.inFlight + 1);
      if (score > bestScore) {
        bestScore = score;
        best = member;
      }
    }
    return best?.endpoint;
  }
}
