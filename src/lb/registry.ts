/** Load-balancing policies by their config name (`clusters[].lb_policy`). */
import {
  DEFAULT_LB_OPTIONS,
  type LbOptions,
  type LbPolicyName,
  type LoadBalancer,
  type Member,
  type Pickable,
} from './load-balancer.js';
import { LeastRequest } from './least-request.js';
import { PanicGuard } from './panic.js';
import { PickFirst } from './pick-first.js';
import { RandomPick } from './random.js';
import { RingHash } from './ring-hash.js';
import { RoundRobin } from './round-robin.js';

type PolicyFactory = <E extends Pickable>(
  members: readonly Member<E>[],
  options: LbOptions,
) => LoadBalancer<E>;

const POLICIES: Readonly<Record<LbPolicyName, PolicyFactory>> = {
  round_robin: (members) => new RoundRobin(members),
  least_request: (members, options) =>
    new LeastRequest(members, options.random, options.choiceCount),
  random: (members, options) => new RandomPick(members, options.random),
  ring_hash: (members, options) => {
    if (options.hashHeader === undefined) {
      throw new Error('lb_policy ring_hash needs hash_on.header');
    }
    return new RingHash(members, options.random, options.hashHeader);
  },
  pick_first: (members) => new PickFirst(members),
};

/**
 * The policy `policy` over `members`, wrapped in the panic-threshold guard
 * unless `options.panicThreshold` is 0. Unset options take their defaults.
 */
export function createLoadBalancer<E extends Pickable>(
  policy: LbPolicyName,
  members: readonly Member<E>[],
  options: Partial<LbOptions> = {},
): LoadBalancer<E> {
  const resolved: LbOptions = { ...DEFAULT_LB_OPTIONS, ...options };
  const factory = POLICIES[policy];
  if (resolved.panicThreshold <= 0) return factory(members, resolved);
  return new PanicGuard(members, resolved.panicThreshold, (views) => factory(views, resolved));
}
