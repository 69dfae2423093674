/**
 * Panic threshold (Envoy's rule) as a wrapper around any policy: when fewer
 * than `threshold` percent of the cluster's members are available, the
 * health information is presumed wrong (a bad check, a flapping network) and
 * the policy balances over every member that is not draining, instead of
 * overloading the few left. Threshold 0 turns it off.
 *
 * The wrapped policy sees views of the members whose `available` is
 * overridden while in panic, so each policy stays oblivious of it. Whether
 * the cluster is in panic is decided once per pick, by counting (O(members)).
 */
import type { LoadBalancer, Member, Pickable, PickRequest } from './load-balancer.js';

/** A member as the wrapped policy sees it. */
class PanicView<E extends Pickable> implements Pickable {
  constructor(
    readonly target: E,
    private readonly state: { panic: boolean },
  ) {}

  get available(): boolean {
    return this.state.panic ? !this.target.draining : this.target.available;
  }

  get inFlight(): number {
    return this.target.inFlight;
  }

  get draining(): boolean {
    return this.target.draining;
  }
}

export class PanicGuard<E extends Pickable> implements LoadBalancer<E> {
  readonly #members: readonly Member<E>[];
  readonly #threshold: number;
  readonly #state = { panic: false };
  readonly #inner: LoadBalancer<PanicView<E>>;

  constructor(
    members: readonly Member<E>[],
    threshold: number,
    policy: (views: readonly Member<PanicView<E>>[]) => LoadBalancer<PanicView<E>>,
  ) {
    this.#members = members;
    this.#threshold = threshold;
    const views = members.map((m) => {
      const view: Member<PanicView<E>> = {
        endpoint: new PanicView(m.endpoint, this.#state),
        weight: m.weight,
        ...(m.key === undefined ? {} : { key: m.key }),
      };
      return view;
    });
    this.#inner = policy(views);
  }

  /** Whether the last pick ran in panic mode (for logs and admin views). */
  get panicking(): boolean {
    return this.#state.panic;
  }

  pick(request: PickRequest): E | undefined {
    this.#state.panic = inPanic(this.#members, this.#threshold);
    return this.#inner.pick(request)?.target;
  }
}

/** Fewer than `threshold` percent of `members` available (never with threshold 0). */
export function inPanic(members: readonly Member<Pickable>[], threshold: number): boolean {
  if (threshold <= 0 || members.length === 0) return false;
  let available = 0;
  for (const member of members) if (member.endpoint.available) available++;
  return available * 100 < threshold * members.length;
}
