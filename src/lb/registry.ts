/** Load-balancing policies by their config name (`clusters[].lb_policy`). */
import type { LbPolicyName, LoadBalancer, Member, Pickable } from './load-balancer.js';
import { RoundRobin } from './round-robin.js';

const POLICIES: Readonly<
  Record<LbPolicyName, <E extends Pickable>(members: readonly Member<E>[]) => LoadBalancer<E>>
> = {
  round_robin: (members) => new RoundRobin(members),
};

export function createLoadBalancer<E extends Pickable>(
  policy: LbPolicyName,
  members: readonly Member<E>[],
): LoadBalancer<E> {
  return POLICIES[policy](members);
}
