/**
 * A cluster as the data path sees it: its endpoints, the balancing policy
 * over them, its circuit-breaker limit and how to address it upstream.
 *
 * Endpoints come from `host:port` / `{address}` entries (fixed) and from
 * `{dns: name:port}` entries (DNS discovery, src/discovery/). Each member is
 * identified by its `host:port` (`ip:port` for discovered ones). When the set
 * changes the cluster swaps in a new balancer over the new, immutable member
 * list (calls read `balancer` once per pick, so a swap between calls is
 * safe): members that remain keep their Endpoint, new ones join, and vanished
 * ones are flagged `draining`, leave the list at once and have their
 * connections closed gracefully once their calls in flight have finished.
 */
import { EventEmitter } from 'node:events';
import type { ClusterConfig, EndpointConfig, EngineName } from '../config/schema.js';
import { DEFAULTS } from '../config/schema.js';
import { flowControlWindow } from '../config/flow-control-window.js';
import { requireDuration } from '../config/duration.js';
import { parseHostPort } from '../config/host-port.js';
import { ClusterLimits } from '../breaker/cluster-limits.js';
import { DnsDiscovery } from '../discovery/dns-discovery.js';
import type { ActiveCheckView } from '../health/active-health.js';
import {
  schedulerFromConfig,
  type HealthCheckScheduler,
} from '../health/health-check-scheduler.js';
import { defaultResolver, type DnsResolver } from '../discovery/dns-resolver.js';
import { diffMembership } from '../discovery/membership.js';
import type { LbOptions, LbPolicyName, LoadBalancer, Member } from '../lb/load-balancer.js';
import { createLoadBalancer } from '../lb/registry.js';
import type { Logger } from '../log/logger.js';
import { Endpoint } from './endpoint.js';
import type { SessionPoolOptions } from './session-pool.js';
import { sessionLifecycleOptions } from './session-config.js';
import { loadUpstreamTls } from './upstream-tls.js';

export interface ClusterOptions {
  /** The HTTP/2 engine of the cluster's connections; node:http2 by default. */
  readonly engine?: EngineName;
  /** Resolver for `dns` endpoints; the system's by default. */
  readonly resolver?: DnsResolver;
  /**
   * A reload: endpoints of the cluster this one replaces, by key, to take
   * over instead of building new ones (connections, health and outlier state
   * carry over). Borrowed until `claimAdopted()`; `close()` leaves them open.
   */
  readonly adopt?: (key: string) => Endpoint | undefined;
}

/** A change of the member list (DNS discovery). */
export interface MembershipChange {
  /** Keys that joined. */
  readonly added: readonly string[];
  /** Keys that left and are draining. */
  readonly removed: readonly string[];
  /** Every member's key now, in list order. */
  readonly members: readonly string[];
}

export interface ClusterEvents {
  membership: [MembershipChange];
  /** A removed endpoint's last call ended and its connections closed. */
  drained: [string];
}

interface Target {
  readonly discovery: DnsDiscovery;
  readonly weight: number;
}

export class Cluster {
  readonly name: string;
  /** `circuit_breaker:` and `retry_budget:` counters. */
  readonly limits: ClusterLimits;
  /** `:scheme` sent upstream: `https` when the cluster connects with TLS. */
  readonly scheme: 'http' | 'https';
  /** `:authority` sent upstream; the client's when undefined. */
  readonly authority: string | undefined;
  readonly events = new EventEmitter<ClusterEvents>();
  readonly #logger: Logger;
  readonly #sessionOptions: SessionPoolOptions;
  readonly #policy: LbPolicyName;
  readonly #lbOptions: Partial<LbOptions>;
  /** Fixed entries: key (as written) and weight, in config order. */
  readonly #fixed: readonly { readonly key: string; readonly weight: number }[];
  readonly #targets: readonly Target[];
  /** Current members by key, in list order. */
  #members = new Map<string, Member<Endpoint>>();
  /** Removed endpoints whose calls in flight have not all finished. */
  readonly #draining = new Map<string, { readonly endpoint: Endpoint }>();
  #balancer: LoadBalancer<Endpoint>;
  /** Active health checks (`health_check`); undefined when not configured. */
  readonly #healthChecks: HealthCheckScheduler | undefined;
  #closed = false;
  #adopt: ((key: string) => Endpoint | undefined) | undefined;
  /** Endpoints `close()` leaves open: borrowed (not yet claimed) or handed over to a successor. */
  readonly #notOwned = new Set<Endpoint>();

  constructor(config: ClusterConfig, logger: Logger, options: ClusterOptions = {}) {
    this.name = config.name;
    this.authority = config.authority;
    this.#logger = logger.child({ cluster: config.name });
    this.limits = new ClusterLimits(config.name, config);
    this.#adopt = options.adopt;
    const connectTimeoutMs = requireDuration(config.connect_timeout ?? DEFAULTS.connectTimeout);
    const tls = loadUpstreamTls(config.tls);
    this.scheme = tls === undefined ? 'http' : 'https';
    if (tls?.verify === false) {
      this.#logger.warn('tls.insecure_skip_verify: backend certificates are not verified');
    }
    this.#sessionOptions = {
      connectTimeoutMs,
      initialWindowSize: flowControlWindow(config.stream_window ?? DEFAULTS.streamWindow),
      connectionWindowSize: flowControlWindow(
        config.connection_window ?? DEFAULTS.connectionWindow,
      ),
      logger: this.#logger,
      connectionLimit: this.limits.connections,
      ...(options.engine === undefined ? {} : { engine: options.engine }),
      ...sessionLifecycleOptions(config),
      tls,
    };
    this.#policy = config.lb_policy ?? DEFAULTS.lbPolicy;
    this.#lbOptions = {
      choiceCount: config.choice_count ?? DEFAULTS.choiceCount,
      hashHeader: config.hash_on?.header,
      panicThreshold: config.panic_threshold ?? DEFAULTS.panicThreshold,
    };
    const fixed: { key: string; weight: number }[] = [];
    const targets: Target[] = [];
    let resolver: DnsResolver | undefined;
    for (const entry of config.endpoints) {
      const weight = endpointWeight(entry);
      if (typeof entry === 'string' || !('dns' in entry)) {
        fixed.push({ key: typeof entry === 'string' ? entry : entry.address, weight });
        continue;
      }
      const target = parseHostPort(entry.dns);
      if (target === undefined) throw new Error(`not a name:port: "${entry.dns}"`);
      resolver ??= options.resolver ?? defaultResolver();
      const discovery: DnsDiscovery = new DnsDiscovery({
        host: target.host,
        port: target.port,
        refreshMs: requireDuration(entry.refresh ?? DEFAULTS.dnsRefresh),
        resolver,
        logger: this.#logger.child({ dns: entry.dns }),
        onChange: () => {
          this.#update();
        },
      });
      targets.push({ discovery, weight });
    }
    this.#fixed = fixed;
    this.#targets = targets;
    this.#healthChecks =
      config.health_check === undefined
        ? undefined
        : schedulerFromConfig(config.health_check, {
            authority: config.authority,
            logger: this.#logger.child({ module: 'health_check' }),
            tls,
          });
    this.#balancer = this.#rebuild();
  }

  /** The policy over the current members; replaced when discovery changes them. */
  get balancer(): LoadBalancer<Endpoint> {
    return this.#balancer;
  }

  /** The current members' endpoints, in list order (draining ones not included). */
  get endpoints(): readonly Endpoint[] {
    return [...this.#members.values()].map((m) => m.endpoint);
  }

  /** Keys (`host:port`) of the current members, in list order. */
  get memberKeys(): readonly string[] {
    return [...this.#members.keys()];
  }

  /** The balancing policy's name (admin views). */
  get lbPolicy(): LbPolicyName {
    return this.#policy;
  }

  /**
   * Starts active health checks (no-op without `health_check`): the first
   * round at once, then each endpoint on its interval. Endpoints that join
   * later are checked from when they join.
   */
  startHealthChecks(): void {
    if (this.#closed) return;
    this.#healthChecks?.start(this.endpoints);
  }

  /** Whether the first round of health checks has ended (true without `health_check`). */
  get healthChecked(): boolean {
    return this.#healthChecks?.firstRoundDone ?? true;
  }

  /** Resolves once the first round of health checks has ended (at once without `health_check`). */
  whenHealthChecked(): Promise<void> {
    return this.#healthChecks?.firstRound ?? Promise.resolve();
  }

  /** An endpoint's active-check state (admin views); null when it is not checked. */
  healthCheckView(endpoint: Endpoint): ActiveCheckView | null {
    return this.#healthChecks?.view(endpoint) ?? null;
  }

  /** Whether any endpoint entry is discovered through DNS. */
  get discovers(): boolean {
    return this.#targets.length > 0;
  }

  /**
   * Starts DNS discovery; resolves once every `dns` entry's first lookup has
   * ended (found records or not: a failed one keeps retrying on its interval).
   */
  async startDiscovery(): Promise<void> {
    if (this.#closed) return;
    await Promise.all(this.#targets.map((t) => t.discovery.start()));
  }

  /** Resolves every `dns` entry again now (as its timer would); for tests and admin actions. */
  async refreshDiscovery(): Promise<void> {
    await Promise.all(this.#targets.map((t) => t.discovery.refresh()));
  }

  /** Stops discovery and closes every endpoint's connections (in-flight streams finish first). */
  async close(): Promise<void> {
    this.#closed = true;
    for (const target of this.#targets) target.discovery.stop();
    await this.#healthChecks?.stop();
    const endpoints = [...this.endpoints, ...[...this.#draining.values()].map((d) => d.endpoint)];
    this.#draining.clear();
    await Promise.all(endpoints.filter((e) => !this.#notOwned.has(e)).map((e) => e.pool.close()));
  }

  /** A reload committed: the endpoints taken over through `adopt` are this cluster's now. */
  claimAdopted(): void {
    this.#adopt = undefined;
    // Their open connections now count against this cluster's max_connections.
    for (const endpoint of this.#notOwned)
      endpoint.pool.useConnectionLimit(this.limits.connections);
    this.#notOwned.clear();
  }

  /** A reload committed: these endpoints are the successor's; stop checking them, leave them open. */
  handOver(endpoints: Iterable<Endpoint>): void {
    // Its membership no longer matters (no new call picks here), and must not drain shared endpoints.
    for (const target of this.#targets) target.discovery.stop();
    for (const endpoint of endpoints) {
      this.#notOwned.add(endpoint);
      this.#healthChecks?.remove(endpoint);
    }
  }

  /** Applies the discovered sets: new member list, new balancer, drains what left. */
  #update(): void {
    if (this.#closed) return;
    const before = [...this.#members.keys()];
    this.#balancer = this.#rebuild();
    const diff = diffMembership(before, this.#members.keys());
    const change: MembershipChange = {
      added: diff.join,
      removed: diff.drain,
      members: [...this.#members.keys()],
    };
    this.#logger.info(change, 'cluster membership changed');
    this.events.emit('membership', change);
  }

  /**
   * The member list the entries give now (fixed entries first, then each
   * `dns` entry's addresses; a key listed twice keeps its first weight), and
   * a balancer over it. Endpoints of members that left are drained.
   */
  #rebuild(): LoadBalancer<Endpoint> {
    const wanted = new Map<string, number>();
    for (const { key, weight } of this.#fixed) if (!wanted.has(key)) wanted.set(key, weight);
    for (const { discovery, weight } of this.#targets) {
      for (const key of discovery.addresses) if (!wanted.has(key)) wanted.set(key, weight);
    }
    const previous = this.#members;
    const diff = diffMembership(previous.keys(), wanted.keys());
    const members = new Map<string, Member<Endpoint>>();
    for (const key of [...diff.keep, ...diff.join]) {
      const endpoint = previous.get(key)?.endpoint ?? this.#revive(key) ?? this.#newEndpoint(key);
      members.set(key, { endpoint, weight: wanted.get(key) ?? DEFAULTS.endpointWeight, key });
    }
    for (const key of diff.drain) {
      const endpoint = previous.get(key)?.endpoint;
      // A borrowed endpoint is still its lender's to drain.
      if (endpoint !== undefined && !this.#notOwned.has(endpoint)) this.#drain(key, endpoint);
    }
    this.#members = members;
    return createLoadBalancer(this.#policy, [...members.values()], this.#lbOptions);
  }

  #newEndpoint(key: string): Endpoint {
    const adopted = this.#adopt?.(key);
    if (adopted !== undefined) {
      this.#notOwned.add(adopted);
      this.#healthChecks?.adopt(adopted);
      this.#healthChecks?.add(adopted);
      return adopted;
    }
    const endpoint = new Endpoint(key, this.#sessionOptions);
    // Held out until its first health check passes; checked from now if checks run.
    this.#healthChecks?.hold(endpoint);
    this.#healthChecks?.add(endpoint);
    return endpoint;
  }

  /** A draining endpoint that came back before it finished draining. */
  #revive(key: string): Endpoint | undefined {
    const drain = this.#draining.get(key);
    if (drain === undefined) return undefined;
    this.#draining.delete(key);
    drain.endpoint.health.clear('draining');
    return drain.endpoint;
  }

  #drain(key: string, endpoint: Endpoint): void {
    endpoint.health.set('draining');
    const drain = { endpoint };
    this.#draining.set(key, drain);
    const finish = async (): Promise<void> => {
      await endpoint.whenIdle();
      // Revived, already closed by close(), or drained again later: not this drain's to finish.
      if (this.#draining.get(key) !== drain) return;
      if (endpoint.inFlight > 0) return finish();
      this.#draining.delete(key);
      this.#healthChecks?.remove(endpoint);
      await endpoint.pool.close();
      this.#logger.info({ endpoint: key }, 'removed endpoint drained');
      this.events.emit('drained', key);
    };
    void finish();
  }
}

function endpointWeight(entry: EndpointConfig): number {
  return typeof entry === 'string'
    ? DEFAULTS.endpointWeight
    : (entry.weight ?? DEFAULTS.endpointWeight);
}
