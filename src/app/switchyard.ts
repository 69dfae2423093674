/**
 * The running proxy: the control plane's current Snapshot, the listeners
 * that feed calls into the data path, and the admin endpoint.
 */
import type { Registry } from 'prom-client';
import { AdminServer } from '../admin/admin-server.js';
import { clustersView } from '../admin/clusters-view.js';
import { requireByteSize } from '../config/byte-size.js';
import { DEFAULTS, type Config, type ListenerConfig } from '../config/schema.js';
import type { DnsResolver } from '../discovery/dns-resolver.js';
import { awaitFirstLookups } from '../discovery/first-lookups.js';
import { createOutlierDetector, type OutlierDetector } from '../health/outlier-detector.js';
import { HealthService } from '../grpc/health-service.js';
import { Listener } from '../listener/listener.js';
import { AccessLog } from '../log/access-log.js';
import { silentLogger, type Logger } from '../log/logger.js';
import type { OutcomeSink } from '../outcome/call-outcome.js';
import { OutcomeSinks } from '../outcome/outcome-sinks.js';
import { CallMetrics } from '../metrics/call-metrics.js';
import { registerClusterLimitMetrics } from '../metrics/cluster-limit-metrics.js';
import { registerEndpointGauges } from '../metrics/endpoint-gauges.js';
import { createMetricsRegistry } from '../metrics/metrics-registry.js';
import { ProxyCall, type CallEnvironment } from '../proxy/proxy-call.js';
import type { Snapshot } from '../proxy/snapshot.js';
import type { Cluster } from '../upstream/cluster.js';
import { compileSnapshot } from './compile-snapshot.js';

export interface SwitchyardOptions {
  readonly logger?: Logger;
  /** Where the access log goes (one line per call); a child of `logger` by default. */
  readonly accessLogger?: Logger;
  /** Resolver for `dns` endpoints (tests point one at their own server); the system's by default. */
  readonly resolver?: DnsResolver;
  /** Longest `start` waits for the clusters' first DNS lookups. Default 5000. */
  readonly discoveryTimeoutMs?: number;
}

export const DEFAULT_DISCOVERY_TIMEOUT_MS = 5_000;

export class Switchyard {
  readonly #logger: Logger;
  #snapshot: Snapshot;
  readonly #listeners = new Map<string, Listener>();
  #admin: AdminServer | undefined;
  #ready = false;
  /** Outlier detection for clusters with `outlier_detection`; fed every call's outcome. */
  #outliers: OutlierDetector | undefined;
  /** grpc.health.v1.Health as the proxy answers it (listeners with `health_service`). */
  readonly #health = new HealthService(() => this.#snapshot);
  /** This proxy's own metrics registry (admin `GET /metrics`, docs/metrics.md). */
  readonly #metricsRegistry: Registry = createMetricsRegistry();
  readonly #callMetrics = new CallMetrics(this.#metricsRegistry);

  private constructor(config: Config, logger: Logger, resolver: DnsResolver | undefined) {
    this.#logger = logger;
    this.#snapshot = compileSnapshot(
      config,
      logger.child({ module: 'upstream' }),
      resolver === undefined ? {} : { resolver },
    );
    registerEndpointGauges(this.#metricsRegistry, () => this.#snapshot.clusters.values());
    registerClusterLimitMetrics(this.#metricsRegistry, () => this.#snapshot.clusters.values());
  }

  /** Binds every listener (and the admin endpoint); rejects if any cannot bind. */
  static async start(config: Config, options: SwitchyardOptions = {}): Promise<Switchyard> {
    const logger = options.logger ?? silentLogger();
    const proxy = new Switchyard(config, logger, options.resolver);
    try {
      await awaitFirstLookups(
        proxy.#snapshot.clusters.values(),
        options.discoveryTimeoutMs ?? DEFAULT_DISCOVERY_TIMEOUT_MS,
        logger,
      );
      // Not awaited: /readyz flips to 200 once the first round ended (bounded by the check timeout).
      for (const cluster of proxy.#snapshot.clusters.values()) cluster.startHealthChecks();
      if (config.admin !== undefined) {
        proxy.#admin = await AdminServer.start(config.admin.address, {
          get ready() {
            return proxy.#ready && proxy.healthChecked;
          },
          clusters: () => clustersView(proxy.#snapshot.clusters.values()),
          metrics: async () => ({
            contentType: proxy.#metricsRegistry.contentType,
            body: await proxy.#metricsRegistry.metrics(),
          }),
        });
        logger.info({ address: proxy.#admin.address }, 'admin listening');
      }
      const accessLog = new AccessLog(options.accessLogger ?? logger.child({ module: 'access' }));
      proxy.#outliers = createOutlierDetector(config, proxy.#snapshot.clusters, {
        logger: logger.child({ module: 'outlier' }),
      });
      const sinks: OutcomeSink[] = [accessLog, proxy.#callMetrics];
      if (proxy.#outliers !== undefined) sinks.push(proxy.#outliers);
      const sink = new OutcomeSinks(sinks);
      for (const listenerConfig of config.listeners)
        await proxy.#startListener(listenerConfig, sink);
    } catch (error) {
      await proxy.close(0);
      throw error;
    }
    proxy.#ready = true;
    logger.info('switchyard ready');
    return proxy;
  }

  /** Binds one listener whose calls run on the snapshot current at their accept. */
  async #startListener(config: ListenerConfig, sink: OutcomeSink): Promise<void> {
    const env: CallEnvironment = {
      sink,
      routed: (head, route) => this.#callMetrics.callStarted(head, route),
      appendForwardedFor: (config.x_forwarded_for ?? DEFAULTS.xForwardedFor) === 'append',
      maxMessageBytes:
        config.limits?.max_message_size === undefined
          ? undefined
          : requireByteSize(config.limits.max_message_size),
    };
    const health = (config.health_service ?? DEFAULTS.healthService) ? this.#health : undefined;
    const listener = await Listener.start(
      config,
      (call) => {
        if (health !== undefined && HealthService.isHealthCall(call.head)) health.serve(call);
        else new ProxyCall(call, this.#snapshot, env).run();
      },
      this.#logger,
    );
    this.#listeners.set(listener.name, listener);
    this.#logger.info(
      { listener: listener.name, address: listener.address, tls: config.tls !== undefined },
      'listening',
    );
  }

  /** Whether every cluster's first round of health checks has ended (a condition of /readyz). */
  get healthChecked(): boolean {
    return [...this.#snapshot.clusters.values()].every((c) => c.healthChecked);
  }

  /** Resolves once every cluster's first round of health checks has ended. */
  async whenHealthChecked(): Promise<void> {
    await Promise.all([...this.#snapshot.clusters.values()].map((c) => c.whenHealthChecked()));
  }

  /** A cluster of the current snapshot (for tests and admin views). */
  cluster(name: string): Cluster | undefined {
    return this.#snapshot.clusters.get(name);
  }

  /** The address a listener bound to (the real port when config said 0). */
  listenerAddress(name: string): { host: string; port: number } {
    const listener = this.#listeners.get(name);
    if (listener === undefined) throw new Error(`no listener named ${name}`);
    return listener.address;
  }

  /** The admin endpoint's bound address, when configured. */
  get adminAddress(): { host: string; port: number } | undefined {
    return this.#admin?.address;
  }

  /**
   * Stops taking calls, lets in-flight calls finish for up to `graceMs`,
   * then closes backend connections and the admin endpoint.
   */
  async close(graceMs = 10_000): Promise<void> {
    this.#ready = false;
    // Health answers NOT_SERVING from here on; Watch streams end so listeners can close.
    this.#health.shutdown();
    await Promise.all([...this.#listeners.values()].map((l) => l.close(graceMs)));
    this.#listeners.clear();
    this.#outliers?.close();
    await Promise.all([...this.#snapshot.clusters.values()].map((c) => c.close()));
    await this.#admin?.close();
    this.#admin = undefined;
    this.#logger.info('closed');
  }
}
