/** Load-balancing policies by their config name (`clusters[].lb_policy`). */
import type { LbPolicyName, LoadBalancer, Member, Pickable } from './load-balancer.js';
import { RoundRobin } from './round-robin.js';

export function createLoadBalancer<E extends Pickable>(
  policy: LbPolicyName,
  members: readonly Member<E>[],
): LoadBalancer<E> {
  switch (policy) {
    case 'round_robin':
      return new RoundRobin(members);
  }
}
