/**
 * Pick first: the first available endpoint in list order takes every call;
 * the next one only while it is held out. For active/standby pairs.
 */
import type { LoadBalancer, Member, Pickable } from './load-balancer.js';

export class PickFirst<E extends Pickable> implements LoadBalancer<E> {
  readonly #members: readonly Member<E>[];

  constructor(members: readonly Member<E>[]) {
    this.#members = members;
  }

  pick(): E | undefined {
    for (const member of this.#members) if (member.endpoint.available) return member.endpoint;
    return undefined;
  }
}
