/**
 * A cluster as the data path sees it: its endpoints, the balancing policy
 * over them, its circuit-breaker limit and how to address it upstream.
 */
import type { ClusterConfig } from '../config/schema.js';
import { DEFAULTS } from '../config/schema.js';
import { requireDuration } from '../config/duration.js';
import { RequestLimit } from '../breaker/request-limit.js';
import type { LoadBalancer } from '../lb/load-balancer.js';
import { createLoadBalancer } from '../lb/registry.js';
import type { Logger } from '../log/logger.js';
import { Endpoint } from './endpoint.js';
import { sessionLifecycleOptions } from './session-config.js';

/** Receive windows advertised to backends (larger than HTTP/2's 64 KiB default). */
const UPSTREAM_STREAM_WINDOW = 1 << 20;
const UPSTREAM_CONNECTION_WINDOW = 8 << 20;

export class Cluster {
  readonly name: string;
  readonly endpoints: readonly Endpoint[];
  readonly balancer: LoadBalancer<Endpoint>;
  readonly limit: RequestLimit;
  /** `:authority` sent upstream; the client's when undefined. */
  readonly authority: string | undefined;

  constructor(config: ClusterConfig, logger: Logger) {
    this.name = config.name;
    this.authority = config.authority;
    const connectTimeoutMs = requireDuration(config.connect_timeout ?? DEFAULTS.connectTimeout);
    const sessionOptions = {
      connectTimeoutMs,
      initialWindowSize: UPSTREAM_STREAM_WINDOW,
      connectionWindowSize: UPSTREAM_CONNECTION_WINDOW,
      logger: logger.child({ cluster: config.name }),
      ...sessionLifecycleOptions(config),
    };
    const members = config.endpoints.map((e) => {
      const address = typeof e === 'string' ? e : e.address;
      const weight =
        typeof e === 'string' ? DEFAULTS.endpointWeight : (e.weight ?? DEFAULTS.endpointWeight);
      return { endpoint: new Endpoint(address, sessionOptions), weight };
    });
    this.endpoints = members.map((m) => m.endpoint);
    this.balancer = createLoadBalancer(config.lb_policy ?? DEFAULTS.lbPolicy, members);
    this.limit = new RequestLimit(config.circuit_breaker?.max_requests ?? DEFAULTS.maxRequests);
  }

  async close(): Promise<void> {
    await Promise.all(this.endpoints.map((e) => e.pool.close()));
  }
}
