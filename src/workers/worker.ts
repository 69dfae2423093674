/**
 * A worker process (docs/workers.md): runs the data path — a Switchyard on
 * the primary's config, its listeners on the ports node:cluster shares —
 * and nothing of the control plane. It does not watch the config, run
 * active health checks or ask DNS, and serves no admin endpoint: the primary
 * sends the config, each endpoint's health and DNS answers; the worker
 * reports its outlier ejections, metrics and cluster views back.
 */
import { Counter } from 'prom-client';
import { clustersView } from '../admin/clusters-view.js';
import { ApplyError } from '../app/apply-error.js';
import { Switchyard } from '../app/switchyard.js';
import type { Config } from '../config/schema.js';
import { createLogger, type Logger } from '../log/logger.js';
import type { Snapshot } from '../proxy/snapshot.js';
import type { Cluster } from '../upstream/cluster.js';
import { TableResolver } from './dns-table.js';
import {
  parseToWorker,
  type ApplyFailure,
  type FromWorker,
  type HealthEntry,
  type ToWorker,
} from './ipc-messages.js';

type Init = Extract<ToWorker, { type: 'init' }>;

/**
 * The config a worker runs: no admin endpoint (the primary's) and no
 * `health_check` (the primary checks; its results arrive as messages).
 */
export function workerConfig(config: Config): Config {
  const worker: Config = {
    ...config,
    clusters: config.clusters.map((cluster) => {
      const copy = { ...cluster };
      delete copy.health_check;
      return copy;
    }),
  };
  delete worker.admin;
  return worker;
}

/** Names of the clusters the primary health-checks. */
function checkedClusters(config: Config): Set<string> {
  return new Set(config.clusters.filter((c) => c.health_check !== undefined).map((c) => c.name));
}

/** The primary's health results, by cluster and address. */
class HealthTable {
  #healthy = new Map<string, Map<string, boolean>>();

  replace(entries: readonly HealthEntry[]): void {
    this.#healthy = new Map();
    for (const entry of entries) this.set(entry);
  }

  set(entry: HealthEntry): void {
    let cluster = this.#healthy.get(entry.cluster);
    if (cluster === undefined) {
      cluster = new Map();
      this.#healthy.set(entry.cluster, cluster);
    }
    cluster.set(entry.address, entry.healthy);
  }

  /** Whether the primary's check passed; false for an endpoint it has not checked yet. */
  healthy(cluster: string, address: string): boolean {
    return this.#healthy.get(cluster)?.get(address) === true;
  }
}

function send(message: FromWorker): void {
  process.send?.(message);
}

/** Waits for the primary's `init` (after saying hello, so it is not sent before we listen). */
function awaitInit(): Promise<Init> {
  return new Promise((resolve) => {
    const onMessage = (value: unknown): void => {
      const message = parseToWorker(value);
      if (message?.type !== 'init') return;
      process.off('message', onMessage);
      resolve(message);
    };
    process.on('message', onMessage);
    send({ type: 'hello' });
  });
}

class Worker {
  readonly #id: number;
  readonly #logger: Logger;
  readonly #resolver = new TableResolver();
  readonly #health = new HealthTable();
  /** Clusters (of the config being applied, then in force) that the primary checks. */
  #checked: Set<string>;
  /** The snapshot most recently handed to the data path (or about to be). */
  #snapshot: Snapshot | undefined;
  readonly #followed = new WeakSet<Cluster>();
  #proxy: Switchyard | undefined;
  /** Config messages are applied one at a time, in order, once the proxy serves. */
  #queue: Promise<void>;
  #serving: () => void = () => undefined;
  #draining = false;

  constructor(init: Init, logger: Logger) {
    this.#id = init.worker;
    this.#logger = logger;
    this.#checked = checkedClusters(init.config);
    this.#queue = new Promise((resolve) => {
      this.#serving = resolve;
    });
    this.#health.replace(init.health);
    for (const entry of init.dns) this.#resolver.set(entry);
  }

  async start(init: Init, accessLogger: Logger): Promise<void> {
    process.on('message', (value: unknown) => {
      this.#receive(value);
    });
    this.#proxy = await Switchyard.start(workerConfig(init.config), {
      logger: this.#logger,
      accessLogger,
      resolver: this.#resolver,
      onSnapshot: (snapshot) => {
        this.#snapshot = snapshot;
        this.#applyHealth(snapshot.clusters.values());
      },
      onOutlierEjected: (cluster, address, durationMs) => {
        send({ type: 'ejected', cluster, address, durationMs });
      },
    });
    this.#registerWorkerMetrics(this.#proxy);
    this.#serving();
    send({ type: 'ready' });
  }

  /** Drains (SIGTERM to the primary, or to this worker) and exits 0. */
  async drain(reason: string): Promise<void> {
    if (this.#draining) return;
    this.#draining = true;
    this.#logger.info({ reason }, 'worker draining');
    try {
      await this.#proxy?.drain();
    } catch (error) {
      this.#logger.error({ err: error }, 'error while draining');
    }
    this.#logger.info('worker stopped');
    // Give pino's asynchronous stdout a turn to flush.
    setTimeout(() => process.exit(0), 50);
    if (process.connected) process.disconnect();
  }

  #receive(value: unknown): void {
    const message = parseToWorker(value);
    if (message === undefined) {
      // prom-client's own cluster messages come here too; they are not ours.
      return;
    }
    switch (message.type) {
      case 'init':
        return;
      case 'config':
        this.#queue = this.#queue.then(() => this.#applyConfig(message));
        return;
      case 'health':
        this.#health.set(message);
        this.#applyHealthTo(message.cluster);
        return;
      case 'dns':
        this.#resolver.set(message);
        for (const cluster of this.#snapshot?.clusters.values() ?? []) {
          if (cluster.discovers) void cluster.refreshDiscovery();
        }
        return;
      case 'eject':
        this.#eject(message.cluster, message.address, message.durationMs);
        return;
      case 'report':
        void this.#report(message.seq, message.kind);
        return;
      case 'drain':
        void this.drain('primary');
        return;
    }
  }

  async #applyConfig(message: Extract<ToWorker, { type: 'config' }>): Promise<void> {
    const proxy = this.#proxy;
    if (proxy === undefined) return;
    const previous = { checked: this.#checked, snapshot: this.#snapshot };
    this.#checked = checkedClusters(message.config);
    this.#health.replace(message.health);
    for (const entry of message.dns) this.#resolver.set(entry);
    let failure: ApplyFailure | null = null;
    try {
      await proxy.applyConfig(workerConfig(message.config));
      this.#logger.info({ seq: message.seq }, 'worker applied config');
    } catch (error) {
      this.#checked = previous.checked;
      this.#snapshot = previous.snapshot;
      failure = {
        message: error instanceof Error ? error.message : String(error),
        issues: error instanceof ApplyError ? error.issues : [],
      };
      this.#logger.error({ err: error, seq: message.seq }, 'worker could not apply config');
    }
    send({ type: 'applied', seq: message.seq, failure });
  }

  /** Sets or clears `active_check` on every endpoint of these clusters as the primary's checks say. */
  #applyHealth(clusters: Iterable<Cluster>): void {
    for (const cluster of clusters) {
      if (!this.#followed.has(cluster)) {
        this.#followed.add(cluster);
        // Endpoints that join through discovery get the primary's verdict before any pick.
        cluster.events.on('membership', () => {
          this.#applyHealth([cluster]);
        });
      }
      const checked = this.#checked.has(cluster.name);
      for (const endpoint of cluster.endpoints) {
        if (checked && !this.#health.healthy(cluster.name, endpoint.address))
          endpoint.health.set('active_check');
        else endpoint.health.clear('active_check');
      }
    }
  }

  #applyHealthTo(name: string): void {
    const cluster = this.#snapshot?.clusters.get(name);
    if (cluster !== undefined) this.#applyHealth([cluster]);
  }

  /** Another worker ejected this endpoint: eject it here too, for the time left. */
  #eject(name: string, address: string, durationMs: number): void {
    const endpoint = this.#snapshot?.clusters
      .get(name)
      ?.endpoints.find((e) => e.address === address);
    const state = endpoint?.outlierState;
    if (state === undefined || state.phase === 'ejected' || durationMs <= 0) return;
    state.eject(durationMs, durationMs);
    this.#logger.warn(
      { cluster: name, endpoint: address, durationMs },
      'outlier ejected by another worker',
    );
  }

  async #report(seq: number, kind: 'metrics' | 'clusters'): Promise<void> {
    const proxy = this.#proxy;
    let body: unknown = null;
    if (proxy !== undefined && kind === 'metrics') {
      body = await proxy.metricsRegistry.getMetricsAsJSON();
    } else if (kind === 'clusters') {
      body = clustersView(this.#snapshot?.clusters.values() ?? []);
    }
    send({ type: 'report', seq, body });
  }

  /** `switchyard_worker_calls_started_total{worker}`: the calls this worker started. */
  #registerWorkerMetrics(proxy: Switchyard): void {
    const registry = proxy.metricsRegistry;
    const worker = String(this.#id);
    new Counter({
      name: 'switchyard_worker_calls_started_total',
      help: 'Calls each worker process started (grpc_server_started_total of that worker); shows how connections spread over workers.',
      labelNames: ['worker'],
      registers: [registry],
      async collect() {
        const started = registry.getSingleMetric('grpc_server_started_total');
        const values = started === undefined ? [] : (await started.get()).values;
        this.reset();
        this.inc(
          { worker },
          values.reduce((sum, v) => sum + v.value, 0),
        );
      },
    });
  }
}

/** The worker process's main: returns once it serves; exits when drained or orphaned. */
export async function runWorker(): Promise<void> {
  if (process.send === undefined) throw new Error('not a worker process (no IPC channel)');
  const init = await awaitInit();
  const base = createLogger({ level: init.logLevel, pretty: init.logPretty });
  const logger = base.child({ worker: init.worker });
  const access = init.logPretty
    ? logger
    : createLogger({ level: init.logLevel, pretty: false, buffered: true }).child({
        worker: init.worker,
      });
  const worker = new Worker(init, logger);
  // The primary coordinates shutdown; a signal sent to this worker alone drains it too.
  process.on('SIGTERM', () => void worker.drain('SIGTERM'));
  process.on('SIGINT', () => void worker.drain('SIGINT'));
  // SIGHUP goes to the primary, which reloads and tells every worker.
  process.on('SIGHUP', () => undefined);
  // The primary is gone: nobody sends health or config any more, so stop.
  process.on('disconnect', () => void worker.drain('primary exited'));
  try {
    await worker.start(init, access.child({ module: 'access' }));
  } catch (error) {
    logger.fatal({ err: error }, 'worker failed to start');
    process.exit(1);
  }
}
