/**
 * A cluster as the data path sees it: its endpoints, the balancing policy
 * over them, its circuit-breaker limit and how to address it upstream.
 */
import type { ClusterConfig } from '../config/schema.js';
import { DEFAULTS } from '../config/schema.js';
import { flowControlWindow } from '../config/flow-control-window.js';
import { requireDuration } from '../config/duration.js';
import { RequestLimit } from '../breaker/request-limit.js';
import type { LoadBalancer } from '../lb/load-balancer.js';
import { createLoadBalancer } from '../lb/registry.js';
import type { Logger } from '../log/logger.js';
import { Endpoint } from './endpoint.js';
import { sessionLifecycleOptions } from './session-config.js';

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
      initialWindowSize: flowControlWindow(config.stream_window ?? DEFAULTS.streamWindow),
      connectionWindowSize: flowControlWindow(
        config.connection_window ?? DEFAULTS.connectionWindow,
      ),
      logger: logger.child({ cluster: config.name }),
      ...sessionLifecycleOptions(config),
    };
    const members = config.endpoints.map((e) => {
      const address = typeof e === 'string' ? e : e.address;
      const weight =
        typeof e === 'string' ? DEFAULTS.endpointWeight : (e.weight ?? DEFAULTS.endpointWeight);
      return { endpoint: new Endpoint(address, sessionOptions), weight, key: address };
    });
    this.endpoints = members.map((m) => m.endpoint);
    this.balancer = createLoadBalancer(config.lb_policy ?? DEFAULTS.lbPolicy, members, {
      choiceCount: config.choice_count ?? DEFAULTS.choiceCount,
      hashHeader: config.hash_on?.header,
      panicThreshold: config.panic_threshold ?? DEFAULTS.panicThreshold,
    });
    this.limit = new RequestLimit(config.circuit_breaker?.max_requests ?? DEFAULTS.maxRequests);
  }

  async close(): Promise<void> {
    await Promise.all(this.endpoints.map((e) => e.pool.close()));
  }
}
