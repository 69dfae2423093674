/**
 * The running proxy: the control plane's current Snapshot, the listeners
 * that feed calls into the data path, and the admin endpoint. A reload
 * (`reload`, docs/operations.md) builds a complete new snapshot and swaps
 * it in; `drain` is the graceful shutdown of SIGTERM.
 */
import type { Registry } from 'prom-client';
import { AdminServer, type AdminReply } from '../admin/admin-server.js';
import { reloadReply } from '../admin/reload-reply.js';
import { clustersView } from '../admin/clusters-view.js';
import { configView } from '../admin/config-view.js';
import { requireByteSize } from '../config/byte-size.js';
import { requireDuration } from '../config/duration.js';
import { DEFAULTS, type Config, type EngineName, type ListenerConfig } from '../config/schema.js';
import type { NodeIssue } from '../config/yaml-locator.js';
import type { DnsResolver } from '../discovery/dns-resolver.js';
import { awaitFirstLookups } from '../discovery/first-lookups.js';
import {
  createOutlierDetector,
  type OutlierDetector,
  type OutlierEjectionHook,
} from '../health/outlier-detector.js';
import { HealthService } from '../grpc/health-service.js';
import type { ProxyListener } from '../listener/proxy-listener.js';
import { AccessLog } from '../log/access-log.js';
import { silentLogger, type Logger } from '../log/logger.js';
import type { OutcomeSink } from '../outcome/call-outcome.js';
import { OutcomeSinks } from '../outcome/outcome-sinks.js';
import { CallMetrics } from '../metrics/call-metrics.js';
import { registerClusterLimitMetrics } from '../metrics/cluster-limit-metrics.js';
import { registerEndpointGauges } from '../metrics/endpoint-gauges.js';
import { registerListenerGauges } from '../metrics/listener-gauges.js';
import { createMetricsRegistry } from '../metrics/metrics-registry.js';
import { ReloadMetrics } from '../metrics/reload-metrics.js';
import { ProxyCall, type CallEnvironment } from '../proxy/proxy-call.js';
import type { Snapshot } from '../proxy/snapshot.js';
import { Cluster, type ClusterOptions } from '../upstream/cluster.js';
import { ApplyError } from './apply-error.js';
import { compileSnapshot, snapshotOf } from './compile-snapshot.js';
import { ConfigReloader, type ReloadResult, type RunningConfig } from './config-reloader.js';
import { sha256, type LoadedConfig } from './config-source.js';
import { DEFAULT_RELOAD_DEBOUNCE_MS, DirectoryWatch } from './directory-watch.js';
import { engineOf, listenerStarter } from '../engine/engine.js';
import { planListeners } from './listener-plan.js';
import { drainCluster, reconcileClusters, type RetiredCluster } from './reconcile-clusters.js';
import { sameConfig } from './same-config.js';

export interface SwitchyardOptions {
  readonly logger?: Logger;
  /** Where the access log goes (one line per call); a child of `logger` by default. */
  readonly accessLogger?: Logger;
  /** Resolver for `dns` endpoints (tests point one at their own server); the system's by default. */
  readonly resolver?: DnsResolver;
  /** Longest `start` (and a reload) waits for new clusters' first DNS lookups. Default 5000. */
  readonly discoveryTimeoutMs?: number;
  /**
   * The file `config` came from (its bytes' hash): enables `reload()`,
   * admin `POST /reload` and, unless `watchConfig` is false, reloading when
   * the file changes.
   */
  readonly configFile?: LoadedConfig;
  /** Watch the config file's directory (default true when `configFile` is given). */
  readonly watchConfig?: boolean;
  /** Quiet period after the last file event before a reload. Default 100. */
  readonly reloadDebounceMs?: number;
  /**
   * Called with every snapshot before it goes into service (at start, and
   * on each reload before the swap). Worker processes (docs/workers.md)
   * apply the primary's endpoint health here.
   */
  readonly onSnapshot?: (snapshot: Snapshot) => void;
  /** Told of every outlier ejection (worker processes report them to the primary). */
  readonly onOutlierEjected?: OutlierEjectionHook;
}

export const DEFAULT_DISCOVERY_TIMEOUT_MS = 5_000;

export class Switchyard {
  readonly #logger: Logger;
  readonly #upstreamLogger: Logger;
  readonly #clusterOptions: ClusterOptions;
  /** The HTTP/2 engine of both sides, fixed for the process's life. */
  readonly #engine: EngineName;
  readonly #discoveryTimeoutMs: number;
  #config: Config;
  #snapshot: Snapshot;
  /** What `GET /config` shows without a config file (a config given in code). */
  readonly #inline: RunningConfig;
  readonly #listeners = new Map<string, ProxyListener>();
  /** Listeners and clusters a reload took out of service, draining. */
  readonly #retiring = new Set<ProxyListener | Cluster>();
  #admin: AdminServer | undefined;
  #ready = false;
  #draining = false;
  /** Outlier detection for clusters with `outlier_detection`; fed every call's outcome. */
  #outliers: OutlierDetector | undefined;
  /** grpc.health.v1.Health as the proxy answers it (listeners with `health_service`). */
  readonly #health = new HealthService(() => this.#snapshot);
  /** This proxy's own metrics registry (admin `GET /metrics`, docs/metrics.md). */
  readonly #metricsRegistry: Registry = createMetricsRegistry();
  readonly #callMetrics = new CallMetrics(this.#metricsRegistry);
  readonly #reloadMetrics = new ReloadMetrics(this.#metricsRegistry);
  /** Every call's outcome goes here: access log, metrics, the current outlier detector. */
  readonly #sink: OutcomeSink;
  #reloader: ConfigReloader | undefined;
  #watcher: DirectoryWatch | undefined;
  readonly #onSnapshot: ((snapshot: Snapshot) => void) | undefined;
  readonly #onOutlierEjected: OutlierEjectionHook | undefined;

  private constructor(config: Config, options: SwitchyardOptions) {
    const logger = options.logger ?? silentLogger();
    this.#logger = logger;
    this.#upstreamLogger = logger.child({ module: 'upstream' });
    this.#engine = engineOf(config);
    this.#clusterOptions = {
      engine: this.#engine,
      ...(options.resolver === undefined ? {} : { resolver: options.resolver }),
    };
    this.#discoveryTimeoutMs = options.discoveryTimeoutMs ?? DEFAULT_DISCOVERY_TIMEOUT_MS;
    this.#config = config;
    this.#onSnapshot = options.onSnapshot;
    this.#onOutlierEjected = options.onOutlierEjected;
    this.#snapshot = compileSnapshot(config, this.#upstreamLogger, this.#clusterOptions);
    this.#onSnapshot?.(this.#snapshot);
    this.#inline = { path: '', hash: sha256(JSON.stringify(config)), config, loadedAt: new Date() };
    this.#reloadMetrics.loaded(this.#inline.loadedAt);
    registerEndpointGauges(this.#metricsRegistry, () => this.#snapshot.clusters.values());
    registerClusterLimitMetrics(this.#metricsRegistry, () => this.#snapshot.clusters.values());
    registerListenerGauges(this.#metricsRegistry, () => this.#listeners.values());
    this.#outliers = this.#createOutliers(config, this.#snapshot);
    const accessLog = new AccessLog(options.accessLogger ?? logger.child({ module: 'access' }));
    const outliers: OutcomeSink = { record: (outcome) => this.#outliers?.record(outcome) };
    this.#sink = new OutcomeSinks([accessLog, this.#callMetrics, outliers]);
  }

  /** Binds every listener (and the admin endpoint); rejects if any cannot bind. */
  static async start(config: Config, options: SwitchyardOptions = {}): Promise<Switchyard> {
    const logger = options.logger ?? silentLogger();
    const proxy = new Switchyard(config, options);
    try {
      await awaitFirstLookups(proxy.#snapshot.clusters.values(), proxy.#discoveryTimeoutMs, logger);
      // Not awaited: /readyz flips to 200 once the first round ended (bounded by the check timeout).
      for (const cluster of proxy.#snapshot.clusters.values()) cluster.startHealthChecks();
      const file = options.configFile;
      if (file !== undefined) {
        proxy.#reloader = new ConfigReloader({
          initial: file,
          apply: (next) => proxy.#apply(next),
          metrics: proxy.#reloadMetrics,
          logger: logger.child({ module: 'reload' }),
        });
      }
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
          config: () => configView(proxy.runningConfig),
          ...(file === undefined ? {} : { reload: () => proxy.#adminReload() }),
        });
        logger.info({ address: proxy.#admin.address }, 'admin listening');
      }
      for (const listenerConfig of config.listeners) {
        const listener = await proxy.#bindListener(listenerConfig);
        proxy.#listeners.set(listener.name, listener);
      }
      if (file !== undefined && options.watchConfig !== false) {
        proxy.#watcher = new DirectoryWatch([file.path], () => void proxy.reload('file change'), {
          logger: logger.child({ module: 'reload' }),
          debounceMs: options.reloadDebounceMs ?? DEFAULT_RELOAD_DEBOUNCE_MS,
          what: 'config',
          fallback: 'reload with SIGHUP or POST /reload',
        });
      }
    } catch (error) {
      await proxy.close(0);
      throw error;
    }
    proxy.#ready = true;
    logger.info('switchyard ready');
    return proxy;
  }

  /** Binds one listener whose calls run on the snapshot current at their accept. */
  async #bindListener(config: ListenerConfig): Promise<ProxyListener> {
    const env: CallEnvironment = {
      sink: this.#sink,
      routed: (head, route) => this.#callMetrics.callStarted(head, route),
      appendForwardedFor: (config.x_forwarded_for ?? DEFAULTS.xForwardedFor) === 'append',
      maxMessageBytes:
        config.limits?.max_message_size === undefined
          ? undefined
          : requireByteSize(config.limits.max_message_size),
    };
    const health = (config.health_service ?? DEFAULTS.healthService) ? this.#health : undefined;
    const listener = await listenerStarter(this.#engine)(
      config,
      (call) => {
        if (health !== undefined && HealthService.isHealthCall(call.head)) {
          health.serve(call);
          return undefined;
        }
        const proxyCall = new ProxyCall(call, this.#snapshot, env);
        proxyCall.run();
        return proxyCall;
      },
      this.#logger,
    );
    this.#logger.info(
      { listener: listener.name, address: listener.address, tls: config.tls !== undefined },
      'listening',
    );
    return listener;
  }

  #createOutliers(config: Config, snapshot: Snapshot): OutlierDetector | undefined {
    return createOutlierDetector(config, snapshot.clusters, {
      logger: this.#logger.child({ module: 'outlier' }),
      ...(this.#onOutlierEjected === undefined ? {} : { onEject: this.#onOutlierEjected }),
    });
  }

  /**
   * Reloads the config file (SIGHUP, `POST /reload`, a file change): the new
   * config is in force when this resolves with `applied`; on `refused` the
   * running one stays. Without a config file every reload is refused.
   */
  async reload(trigger = 'api'): Promise<ReloadResult> {
    if (this.#reloader === undefined)
      return { result: 'refused', errors: ['no config file to reload'] };
    return this.#reloader.reload(trigger);
  }

  /**
   * Applies a config already validated elsewhere, as a reload would (worker
   * processes get theirs from the primary, docs/workers.md). Rejects, leaving
   * the running config in place, when it cannot be applied.
   */
  async applyConfig(next: Config): Promise<void> {
    await this.#apply(next);
  }

  /** This proxy's metrics registry (worker processes hand it to the primary's /metrics). */
  get metricsRegistry(): Registry {
    return this.#metricsRegistry;
  }

  async #adminReload(): Promise<AdminReply> {
    return reloadReply(await this.reload('admin'));
  }

  /** The config in force, the hash of its file's bytes and when it was loaded. */
  get runningConfig(): RunningConfig {
    return this.#reloader?.running ?? this.#inline;
  }

  /**
   * Applies a validated config: builds the clusters whose config changed (and
   * waits for their first DNS lookups and health checks), binds new
   * listeners, then swaps the snapshot in. Throws, leaving everything as it
   * was, when a listener cannot bind. Then drains what left.
   */
  async #apply(next: Config): Promise<void> {
    if (this.#draining) throw new Error('shutting down; reload refused');
    if (engineOf(next) !== this.#engine) {
      throw new ApplyError([
        {
          path: ['engine'],
          at: 'value',
          message: `engine cannot change while running (running ${this.#engine}); restart to switch`,
        },
      ]);
    }
    const running = { config: this.#config, clusters: this.#snapshot.clusters };
    const clusters = reconcileClusters(
      running,
      next,
      (config, adopt) =>
        new Cluster(config, this.#upstreamLogger, { ...this.#clusterOptions, ...adopt }),
    );
    const listeners = planListeners(this.#config, next);
    const opened = new Map<string, ProxyListener>();
    try {
      await awaitFirstLookups(clusters.added, this.#discoveryTimeoutMs, this.#logger);
      for (const cluster of clusters.added) cluster.startHealthChecks();
      await Promise.all(clusters.added.map((c) => c.whenHealthChecked()));
      const failures: NodeIssue[] = [];
      for (const { index, config } of listeners.open) {
        try {
          opened.set(config.name, await this.#bindListener(config));
        } catch (error) {
          const reason = error instanceof Error ? error.message : String(error);
          failures.push({
            path: ['listeners', index, 'address'],
            at: 'value',
            message: `listener ${config.name} cannot bind ${config.address}: ${reason}`,
          });
        }
      }
      if (failures.length > 0) throw new ApplyError(failures);
      // A drain that began while this reload waited wins: nothing new is put in service.
      if (this.#drainBegun()) throw new Error('shutting down; reload refused');
    } catch (error) {
      await Promise.all([...opened.values()].map((l) => l.close(0)));
      await clusters.abort();
      throw error;
    }

    // The swap: calls accepted from here on run on the new snapshot.
    const retired = clusters.commit();
    const snapshot = snapshotOf(next, clusters.clusters);
    this.#onSnapshot?.(snapshot);
    const outliers = this.#createOutliers(next, snapshot);
    this.#outliers?.handOver(outliers);
    this.#outliers = outliers;
    this.#snapshot = snapshot;
    this.#config = next;
    if (!sameConfig(running.config.admin, next.admin))
      this.#logger.warn('admin address changes take effect at the next restart');

    const graceMs = requireDuration(next.drain_timeout ?? DEFAULTS.drainTimeout);
    for (const name of listeners.close) this.#retire(this.#listeners.get(name), graceMs);
    for (const [name, listener] of opened) this.#listeners.set(name, listener);
    for (const { config } of listeners.rebind) {
      this.#retire(this.#listeners.get(config.name), graceMs);
      this.#listeners.delete(config.name);
      try {
        this.#listeners.set(config.name, await this.#bindListener(config));
      } catch (error) {
        this.#logger.error(
          { err: error, listener: config.name, address: config.address },
          'changed listener could not be bound again at its address; it is down until the next reload',
        );
      }
    }
    for (const cluster of retired) this.#retireCluster(cluster);
    this.#logger.info(
      {
        listeners: { kept: listeners.keep, opened: [...opened.keys()], closed: listeners.close },
        clusters: {
          built: clusters.added.map((c) => c.name),
          drained: retired.map((r) => r.cluster.name),
          endpointsKept: retired.reduce((n, r) => n + r.handedOver.size, 0),
        },
      },
      'config applied',
    );
  }

  /** Drains a listener the running config no longer has. */
  #retire(listener: ProxyListener | undefined, graceMs: number): void {
    if (listener === undefined) return;
    if (this.#listeners.get(listener.name) === listener) this.#listeners.delete(listener.name);
    this.#whileRetiring(listener, listener.close(graceMs));
  }

  /** Drains a cluster the running snapshot no longer has. */
  #retireCluster(retired: RetiredCluster): void {
    this.#whileRetiring(retired.cluster, drainCluster(retired));
  }

  #whileRetiring(item: ProxyListener | Cluster, done: Promise<void>): void {
    this.#retiring.add(item);
    void done.then(
      () => this.#retiring.delete(item),
      (error: unknown) => {
        this.#retiring.delete(item);
        this.#logger.warn({ err: error, name: item.name }, 'error while draining');
      },
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

  /** Whether `drain` has begun. */
  get draining(): boolean {
    return this.#draining;
  }

  /** `draining`, read afresh (a method, so an earlier check does not narrow it). */
  #drainBegun(): boolean {
    return this.#draining;
  }

  /**
   * Graceful shutdown (SIGTERM): reports not ready (`/readyz` 503, the
   * health service NOT_SERVING) for `drain_delay`, so load balancers stop
   * sending; then closes listeners with GOAWAY and lets calls finish for up
   * to `drain_timeout` (the rest end UNAVAILABLE); then closes everything.
   */
  async drain(): Promise<void> {
    if (this.#draining) return;
    this.#draining = true;
    this.#ready = false;
    this.#health.shutdown();
    this.#watcher?.close();
    this.#watcher = undefined;
    const delayMs = requireDuration(this.#config.drain_delay ?? DEFAULTS.drainDelay);
    const timeoutMs = requireDuration(this.#config.drain_timeout ?? DEFAULTS.drainTimeout);
    this.#logger.info({ drainDelayMs: delayMs, drainTimeoutMs: timeoutMs }, 'draining');
    if (delayMs > 0) await new Promise((resolve) => setTimeout(resolve, delayMs));
    await this.close(timeoutMs);
  }

  /**
   * Stops taking calls, lets in-flight calls finish for up to `graceMs`,
   * then closes backend connections and the admin endpoint.
   */
  async close(graceMs = 10_000): Promise<void> {
    this.#ready = false;
    this.#draining = true;
    this.#watcher?.close();
    this.#watcher = undefined;
    // Health answers NOT_SERVING from here on; Watch streams end so listeners can close.
    this.#health.shutdown();
    const retiring = [...this.#retiring];
    this.#retiring.clear();
    await Promise.all([
      ...[...this.#listeners.values()].map((l) => l.close(graceMs)),
      ...retiring.filter((r) => !(r instanceof Cluster)).map((l) => l.close(graceMs)),
    ]);
    this.#listeners.clear();
    this.#outliers?.close();
    await Promise.all(
      [...this.#snapshot.clusters.values(), ...retiring.filter((r) => r instanceof Cluster)].map(
        (c) => c.close(),
      ),
    );
    await this.#admin?.close();
    this.#admin = undefined;
    this.#logger.info('closed');
  }
}
