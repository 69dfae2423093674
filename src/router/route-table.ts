/**
 * The immutable route table compiled from `routes:`. Each route's conditions
 * become a list of small predicates built once per config load; a call walks
 * the routes in order and takes the first whose predicates all hold.
 */
import type { IncomingHttpHeaders } from 'node:http2';
import { requireDuration } from '../config/duration.js';
import type { RouteConfig, RouteMatchConfig } from '../config/schema.js';
import { MAX_TIMER_MS } from '../grpc/grpc-timeout.js';
import { headerValue } from '../listener/header-value.js';
import { HedgePolicy } from '../retry/hedge-policy.js';
import { RetryPolicy } from '../retry/retry-policy.js';

/** What the router looks at: taken from the request head once per call. */
export interface RouteRequest {
  readonly path: string;
  readonly authority: string;
  readonly headers: IncomingHttpHeaders;
}

export interface Route {
  readonly name: string;
  /**
   * The cluster for one call: the route's `cluster`, or one of its
   * `clusters` at random in proportion to the weights. `random` returns a
   * number in [0, 1); it is not called when there is only one cluster.
   */
  pickCluster(random?: () => number): string;
  /** Matched by gRPC service or method: only gRPC requests belong here. */
  readonly grpcOnly: boolean;
  /** The route's `timeout` in milliseconds; undefined for none. */
  readonly timeoutMs: number | undefined;
  /** The route's `retry:` policy; undefined when calls are not retried (transparent retries aside). */
  readonly retry: RetryPolicy | undefined;
  /** The route's `hedge:` policy; undefined when calls are not hedged (never with `retry`). */
  readonly hedge: HedgePolicy | undefined;
}

type Predicate = (request: RouteRequest) => boolean;

interface CompiledRoute {
  readonly route: Route;
  readonly predicates: readonly Predicate[];
}

export class RouteTable {
  readonly #routes: readonly CompiledRoute[];
  /** For each `match.service`, the clusters of the first route that names it. */
  readonly #serviceClusters = new Map<string, readonly string[]>();

  constructor(routes: readonly RouteConfig[]) {
    for (const config of routes) {
      const service = config.match.service;
      if (service === undefined || this.#serviceClusters.has(service)) continue;
      const clusters = config.clusters?.map((c) => c.name) ?? [];
      if (config.cluster !== undefined) clusters.push(config.cluster);
      this.#serviceClusters.set(service, Object.freeze(clusters));
    }
    this.#routes = routes.map((config) =>
      Object.freeze({
        route: Object.freeze({
          name: config.name,
          pickCluster: compileClusterPick(config),
          grpcOnly: config.match.service !== undefined || config.match.method !== undefined,
          timeoutMs:
            config.timeout === undefined
              ? undefined
              : Math.min(requireDuration(config.timeout), MAX_TIMER_MS),
          retry: config.retry === undefined ? undefined : new RetryPolicy(config.retry),
          hedge: config.hedge === undefined ? undefined : new HedgePolicy(config.hedge),
        }),
        predicates: compileMatch(config.match),
      }),
    );
  }

  /** The first route whose conditions all hold, or undefined. */
  match(request: RouteRequest): Route | undefined {
    outer: for (const compiled of this.#routes) {
      for (const predicate of compiled.predicates) {
        if (!predicate(request)) continue outer;
      }
      return compiled.route;
    }
    return undefined;
  }

  /**
   * The clusters of the first route matched by `service` (its `cluster`, or
   * every cluster of its split); undefined when no route names that service.
   * The proxy's own health service answers from this.
   */
  serviceClusters(service: string): readonly string[] | undefined {
    return this.#serviceClusters.get(service);
  }
}

function compileClusterPick(config: RouteConfig): Route['pickCluster'] {
  const split =
    config.clusters ?? (config.cluster === undefined ? [] : [{ name: config.cluster, weight: 1 }]);
  const first = split[0];
  if (first === undefined) throw new Error(`route ${config.name} names no cluster`);
  if (split.length === 1) {
    const only = first.name;
    return () => only;
  }
  // Cumulative weights: entry i owns [ends[i - 1], ends[i]) of [0, total).
  const names = split.map((entry) => entry.name);
  const ends: number[] = [];
  let total = 0;
  for (const entry of split) {
    total += entry.weight;
    ends.push(total);
  }
  const last = names.length - 1;
  return (random = Math.random) => {
    const point = random() * total;
    let index = 0;
    while (index < last && point >= (ends[index] ?? total)) index++;
    return names[index] ?? first.name;
  };
}

function compileMatch(match: RouteMatchConfig): Predicate[] {
  const predicates: Predicate[] = [];
  if (match.method !== undefined) {
    const method = match.method;
    predicates.push((r) => r.path === method);
  }
  if (match.service !== undefined) {
    const prefix = `/${match.service}/`;
    predicates.push((r) => r.path.startsWith(prefix) && r.path.length > prefix.length);
  }
  if (match.prefix !== undefined) {
    const prefix = match.prefix;
    predicates.push((r) => r.path.startsWith(prefix));
  }
  if (match.authority !== undefined) predicates.push(compileAuthority(match.authority));
  for (const [name, value] of Object.entries(match.headers ?? {})) {
    predicates.push((r) => headerValue(r.headers, name) === value);
  }
  return predicates;
}

/**
 * `api.example.com` matches that host on any port; `api.example.com:8443`
 * only on that port; `*.example.com` any subdomain. Case-insensitive.
 */
function compileAuthority(pattern: string): Predicate {
  const wanted = pattern.toLowerCase();
  const withPort = /:\d+$/.test(wanted);
  const wildcard = wanted.startsWith('*.') ? wanted.slice(1) : undefined;
  return (r) => {
    let authority = r.authority.toLowerCase();
    if (!withPort) authority = stripPort(authority);
    return wildcard === undefined
      ? authority === wanted
      : authority.endsWith(wildcard) && authority.length > wildcard.length;
  };
}

function stripPort(authority: string): string {
  const colon = authority.lastIndexOf(':');
  if (colon < 0 || authority.endsWith(']')) return authority;
  return authority.slice(0, colon);
}
