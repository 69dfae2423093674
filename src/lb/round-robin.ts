/**
 * Smooth weighted round robin (nginx's algorithm): weights 1:2:3 give the
 * interleaved sequence c b a c b c, not bursts. Each pick raises every
 * available member's score by its weight and takes the highest, which then
 * pays back the total. Unavailable members are skipped without losing their
 * place. O(members) per pick, which is cheap for the cluster sizes in use.
 */
import type { LoadBalancer, Member, Pickable } from './load-balancer.js';

export class RoundRobin<E extends Pickable> implements LoadBalancer<E> {
  readonly #members: readonly Member<E>[];
  readonly #scores: number[];

  constructor(members: readonly Member<E>[]) {
    this.#members = members;
    this.#scores = members.map(() => 0);
  }

  pick(): E | undefined {
    let best = -1;
    let bestScore = -Infinity;
    let total = 0;
    const members = this.#members;
    const scores = this.#scores;
    for (let i = 0; i < members.length; i++) {
      const member = members[i];
      if (member === undefined || !member.endpoint.available) continue;
      const score = (scores[i] ?? 0) + member.weight;
      scores[i] = score;
      total += member.weight;
      if (score > bestScore) {
        bestScore = score;
        best = i;
      }
    }
    if (best < 0) return undefined;
    scores[best] = bestScore - total;
    return members[best]?.endpoint;
  }
}
