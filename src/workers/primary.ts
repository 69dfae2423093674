/**
 * The primary process of `workers: N` (docs/workers.md): the control plane
 * only. It loads, watches and reloads the config, runs DNS discovery and
 * active health checks on its own Cluster objects (which never carry a
 * call), serves the admin endpoint, and keeps N worker processes
 * (node:cluster) running: each gets the config, every endpoint's health and
 * every DNS answer over IPC, and runs the data path on the shared listener
 * ports. A worker that exits is replaced at once; SIGTERM drains them all.
 */
import cluster, { type Worker as ClusterWorker } from 'node:cluster';
import { fileURLToPath } from 'node:url';
import type { LevelWithSilent } from 'pino';
import { Counter, Gauge, type Registry } from 'prom-client';
import { AdminServer, type AdminReply, type MetricsExposition } from '../admin/admin-server.js';
import { reloadReply } from '../admin/reload-reply.js';
import { clustersView } from '../admin/clusters-view.js';
import { configView } from '../admin/config-view.js';
import { ApplyError } from '../app/apply-error.js';
import { compileSnapshot } from '../app/compile-snapshot.js';
import { ConfigReloader, type ReloadResult } from '../app/config-reloader.js';
import type { LoadedConfig } from '../app/config-source.js';
import { DEFAULT_RELOAD_DEBOUNCE_MS, DirectoryWatch } from '../app/directory-watch.js';
import { drainCluster, reconcileClusters } from '../app/reconcile-clusters.js';
import { sameConfig } from '../app/same-config.js';
import { DEFAULT_DISCOVERY_TIMEOUT_MS } from '../app/switchyard.js';
import { requireDuration } from '../config/duration.js';
import { DEFAULTS, type Config } from '../config/schema.js';
import { awaitFirstLookups } from '../discovery/first-lookups.js';
import type { Logger } from '../log/logger.js';
import { createMetricsRegistry } from '../metrics/metrics-registry.js';
import { ReloadMetrics } from '../metrics/reload-metrics.js';
import { Cluster } from '../upstream/cluster.js';
import { RecordingResolver } from './dns-table.js';
import {
  parseFromWorker,
  type ApplyFailure,
  type HealthEntry,
  type ReportKind,
  type ToWorker,
} from './ipc-messages.js';
import {
  aggregateMetrics,
  mergeClusters,
  parseWorkerClusters,
  parseWorkerMetrics,
  type MetricJson,
} from './merge-views.js';

/** How often the primary compares its endpoints' health with what it last sent. */
export const HEALTH_POLL_MS = 25;
/** Longest the primary waits for a worker's report (`/metrics`, `/clusters`). */
const REPORT_TIMEOUT_MS = 5_000;
/** Longest the primary waits for a worker to apply a config. */
const APPLY_TIMEOUT_MS = 30_000;
/** A worker that exits sooner after it started than this is replaced after this long. */
const CRASH_LOOP_MS = 1_000;

export interface PrimaryOptions {
  readonly workers: number;
  readonly logger: Logger;
  readonly logLevel: LevelWithSilent;
  readonly logPretty: boolean;
}

interface Slot {
  /** 1..N; a replacement takes the id of the worker it replaces. */
  readonly id: number;
  readonly process: ClusterWorker;
  readonly startedAt: number;
  /** Sent its `init`: from then on it gets every broadcast and reload. */
  initialised: boolean;
  ready: boolean;
}

type Reply = { readonly kind: 'exited' } | { readonly kind: 'reply'; readonly body: unknown };

interface Pending {
  readonly slot: Slot;
  readonly resolve: (reply: Reply) => void;
}

function healthKey(entry: { cluster: string; address: string }): string {
  return `${entry.cluster}\u0000${entry.address}`;
}

/** Every endpoint's active-check verdict in these clusters. */
function healthEntries(clusters: Iterable<Cluster>): HealthEntry[] {
  const entries: HealthEntry[] = [];
  for (const c of clusters) {
    for (const endpoint of c.endpoints) {
      entries.push({
        cluster: c.name,
        address: endpoint.address,
        healthy: !endpoint.health.has('active_check'),
      });
    }
  }
  return entries;
}

export class Primary {
  readonly #options: PrimaryOptions;
  readonly #logger: Logger;
  readonly #upstreamLogger: Logger;
  readonly #registry: Registry = createMetricsRegistry();
  readonly #reloadMetrics = new ReloadMetrics(this.#registry);
  readonly #restarts: Counter;
  readonly #dns: RecordingResolver;
  #config: Config;
  #clusters: ReadonlyMap<string, Cluster>;
  readonly #reloader: ConfigReloader;
  #watcher: DirectoryWatch | undefined;
  #admin: AdminServer | undefined;
  readonly #slots = new Map<number, Slot>();
  readonly #pending = new Map<string, Pending>();
  #seq = 0;
  /** What every worker was last told of each endpoint's health. */
  #sent = new Map<string, boolean>();
  #poll: NodeJS.Timeout | undefined;
  /** Set while a reload is under way: health polling pauses, new workers wait for it. */
  #reloading: Promise<void> | undefined;
  #started = false;
  #draining = false;
  #startupFailed: ((error: Error) => void) | undefined;
  #readyWaiters: (() => void)[] = [];
  #exitWaiters: (() => void)[] = [];

  private constructor(loaded: LoadedConfig, options: PrimaryOptions) {
    this.#options = options;
    this.#logger = options.logger;
    this.#upstreamLogger = options.logger.child({ module: 'upstream' });
    this.#config = loaded.config;
    this.#dns = new RecordingResolver((entry) => {
      this.#broadcast({ type: 'dns', ...entry });
    });
    this.#clusters = compileSnapshot(loaded.config, this.#upstreamLogger, {
      resolver: this.#dns,
    }).clusters;
    this.#reloader = new ConfigReloader({
      initial: loaded,
      apply: (next) => this.#apply(next),
      metrics: this.#reloadMetrics,
      logger: options.logger.child({ module: 'reload' }),
    });
    this.#restarts = new Counter({
      name: 'switchyard_worker_restarts_total',
      help: 'Worker processes that exited unasked and were replaced.',
      registers: [this.#registry],
    });
    const slots = this.#slots;
    new Gauge({
      name: 'switchyard_workers',
      help: 'Worker processes running and ready.',
      registers: [this.#registry],
      collect() {
        this.set([...slots.values()].filter((s) => s.ready).length);
      },
    });
  }

  /** Starts the control plane and the workers; resolves once every worker serves. */
  static async start(loaded: LoadedConfig, options: PrimaryOptions): Promise<Primary> {
    const primary = new Primary(loaded, options);
    // Health checks' timers and sockets are unref'd: keep the process alive until workers hold it.
    const keepAlive = setInterval(() => undefined, 60_000);
    try {
      await primary.#start(loaded);
    } catch (error) {
      primary.kill();
      await primary.#closeControlPlane();
      throw error;
    } finally {
      clearInterval(keepAlive);
    }
    return primary;
  }

  async #start(loaded: LoadedConfig): Promise<void> {
    const logger = this.#logger;
    const clusters = [...this.#clusters.values()];
    await awaitFirstLookups(clusters, DEFAULT_DISCOVERY_TIMEOUT_MS, logger);
    for (const c of clusters) c.startHealthChecks();
    // Workers start from the first round's verdicts (bounded by the check timeout).
    await Promise.all(clusters.map((c) => c.whenHealthChecked()));
    const isReady = (): boolean => this.ready;
    if (this.#config.admin !== undefined) {
      this.#admin = await AdminServer.start(this.#config.admin.address, {
        get ready() {
          return isReady();
        },
        clusters: () => this.#clustersView(),
        metrics: () => this.#metrics(),
        config: () => configView(this.#reloader.running),
        reload: () => this.#adminReload(),
      });
      logger.info({ address: this.#admin.address }, 'admin listening');
    }
    this.#sent = new Map(healthEntries(clusters).map((e) => [healthKey(e), e.healthy]));
    cluster.setupPrimary({
      exec: fileURLToPath(new URL('./worker-main.js', import.meta.url)),
      args: [],
    });
    cluster.on('message', (worker, message: unknown) => {
      this.#receive(worker, message);
    });
    cluster.on('exit', (worker, code, signal) => {
      this.#exited(worker, code, signal);
    });
    const failed = new Promise<never>((_resolve, reject) => {
      this.#startupFailed = reject;
    });
    for (let id = 1; id <= this.#options.workers; id++) this.#fork(id);
    await Promise.race([this.#allReady(), failed]);
    this.#startupFailed = undefined;
    this.#started = true;
    this.#poll = setInterval(() => {
      this.#pollHealth();
    }, HEALTH_POLL_MS);
    this.#watcher = new DirectoryWatch([loaded.path], () => void this.reload('file change'), {
      logger: logger.child({ module: 'reload' }),
      debounceMs: DEFAULT_RELOAD_DEBOUNCE_MS,
      what: 'config',
      fallback: 'reload with SIGHUP or POST /reload',
    });
    logger.info({ workers: this.#options.workers }, 'workers ready');
    logger.info('switchyard ready');
  }

  /** Ready: started, not draining, and every worker serving. */
  get ready(): boolean {
    return (
      this.#started &&
      !this.#draining &&
      this.#slots.size === this.#options.workers &&
      [...this.#slots.values()].every((s) => s.ready)
    );
  }

  /** Reloads the config file (SIGHUP, `POST /reload`, a file change) in the primary and every worker. */
  reload(trigger: string): Promise<ReloadResult> {
    return this.#reloader.reload(trigger);
  }

  #fork(id: number): void {
    const worker = cluster.fork({ SWITCHYARD_WORKER_ID: String(id) });
    const slot: Slot = {
      id,
      process: worker,
      startedAt: Date.now(),
      initialised: false,
      ready: false,
    };
    this.#slots.set(id, slot);
    this.#logger.info({ worker: id, workerPid: worker.process.pid }, 'worker started');
  }

  #slotOf(worker: ClusterWorker): Slot | undefined {
    for (const slot of this.#slots.values()) if (slot.process === worker) return slot;
    return undefined;
  }

  #send(slot: Slot, message: ToWorker): void {
    if (!slot.process.isConnected()) return;
    try {
      slot.process.send(message);
    } catch (error) {
      this.#logger.warn({ err: error, worker: slot.id }, 'could not send to worker');
    }
  }

  /** Sends to every worker that got its `init` (one not yet initialised gets it all in `init`). */
  #broadcast(message: ToWorker, except?: Slot): void {
    for (const slot of this.#slots.values())
      if (slot.initialised && slot !== except) this.#send(slot, message);
  }

  /** Asks one worker; resolves with its reply, or `exited` when it exits (or times out) first. */
  #ask(slot: Slot, message: (seq: number) => ToWorker, timeoutMs: number): Promise<Reply> {
    const seq = ++this.#seq;
    const key = `${String(slot.id)}:${String(seq)}`;
    return new Promise<Reply>((resolve) => {
      const timer = setTimeout(() => {
        this.#pending.delete(key);
        this.#logger.warn({ worker: slot.id, seq }, 'worker did not answer in time');
        resolve({ kind: 'exited' });
      }, timeoutMs);
      this.#pending.set(key, {
        slot,
        resolve: (reply) => {
          clearTimeout(timer);
          this.#pending.delete(key);
          resolve(reply);
        },
      });
      this.#send(slot, message(seq));
    });
  }

  #receive(worker: ClusterWorker, value: unknown): void {
    const slot = this.#slotOf(worker);
    if (slot === undefined) return;
    const message = parseFromWorker(value);
    if (message === undefined) {
      this.#logger.debug({ worker: slot.id }, 'ignored a message from a worker');
      return;
    }
    switch (message.type) {
      case 'hello':
        void this.#init(slot);
        return;
      case 'ready':
        slot.ready = true;
        this.#logger.info({ worker: slot.id, workerPid: worker.process.pid }, 'worker ready');
        if ([...this.#slots.values()].every((s) => s.ready)) {
          for (const resolve of this.#readyWaiters.splice(0)) resolve();
        }
        return;
      case 'applied':
        this.#pending.get(`${String(slot.id)}:${String(message.seq)}`)?.resolve({
          kind: 'reply',
          body: message.failure,
        });
        return;
      case 'report':
        this.#pending.get(`${String(slot.id)}:${String(message.seq)}`)?.resolve({
          kind: 'reply',
          body: message.body,
        });
        return;
      case 'ejected':
        this.#logger.info(
          { worker: slot.id, cluster: message.cluster, endpoint: message.address },
          'outlier ejected by a worker; telling the others',
        );
        this.#broadcast(
          {
            type: 'eject',
            cluster: message.cluster,
            address: message.address,
            durationMs: message.durationMs,
          },
          slot,
        );
        return;
    }
  }

  /** Sends a new worker the running config, health and DNS answers (after any reload under way). */
  async #init(slot: Slot): Promise<void> {
    while (this.#reloading !== undefined) await this.#reloading;
    if (this.#draining) {
      // Started just before the drain: it has no calls, so it need not serve first.
      slot.process.process.kill('SIGTERM');
      return;
    }
    slot.initialised = true;
    this.#send(slot, {
      type: 'init',
      worker: slot.id,
      logLevel: this.#options.logLevel,
      logPretty: this.#options.logPretty,
      config: this.#config,
      health: healthEntries(this.#clusters.values()),
      dns: this.#dns.entries,
    });
  }

  #exited(worker: ClusterWorker, code: number | null, signal: string | null): void {
    const slot = this.#slotOf(worker);
    if (slot === undefined) return;
    this.#slots.delete(slot.id);
    for (const pending of [...this.#pending.values()]) {
      if (pending.slot === slot) pending.resolve({ kind: 'exited' });
    }
    const exit = { worker: slot.id, workerPid: worker.process.pid, code, signal };
    if (this.#draining) {
      this.#logger.info(exit, 'worker exited');
      if (this.#slots.size === 0) for (const resolve of this.#exitWaiters.splice(0)) resolve();
      return;
    }
    if (!this.#started) {
      this.#logger.error(exit, 'worker exited while starting');
      this.#startupFailed?.(new Error(`worker ${String(slot.id)} exited while starting`));
      return;
    }
    this.#restarts.inc();
    const lived = Date.now() - slot.startedAt;
    if (lived >= CRASH_LOOP_MS) {
      this.#logger.warn(exit, 'worker exited; starting a replacement');
      this.#fork(slot.id);
      return;
    }
    this.#logger.error(
      { ...exit, livedMs: lived },
      'worker exited soon after it started; starting a replacement in 1s',
    );
    setTimeout(() => {
      if (!this.#draining && !this.#slots.has(slot.id)) this.#fork(slot.id);
    }, CRASH_LOOP_MS).unref();
  }

  #allReady(): Promise<void> {
    if (this.#slots.size > 0 && [...this.#slots.values()].every((s) => s.ready))
      return Promise.resolve();
    return new Promise((resolve) => this.#readyWaiters.push(resolve));
  }

  /** Tells the workers of every endpoint whose active-check verdict changed since last time. */
  #pollHealth(): void {
    if (this.#reloading !== undefined || this.#draining) return;
    for (const entry of healthEntries(this.#clusters.values())) {
      const key = healthKey(entry);
      if (this.#sent.get(key) === entry.healthy) continue;
      this.#sent.set(key, entry.healthy);
      this.#broadcast({ type: 'health', ...entry });
    }
  }

  /**
   * A reload: builds the clusters whose config changed (their first DNS
   * lookups and health checks end first), has every worker apply the config,
   * and only then swaps the primary's clusters. When any worker refuses
   * (e.g. a listener that cannot bind), the ones that applied it get the
   * running config back and the reload is refused.
   */
  async #apply(next: Config): Promise<void> {
    if (this.#draining) throw new Error('shutting down; reload refused');
    let done = (): void => undefined;
    this.#reloading = new Promise((resolve) => {
      done = resolve;
    });
    try {
      await this.#applyWhileReloading(next);
    } finally {
      this.#reloading = undefined;
      done();
    }
  }

  async #applyWhileReloading(next: Config): Promise<void> {
    const running = { config: this.#config, clusters: this.#clusters };
    const plan = reconcileClusters(
      running,
      next,
      (config, adopt) =>
        new Cluster(config, this.#upstreamLogger, { resolver: this.#dns, ...adopt }),
    );
    let health: HealthEntry[];
    try {
      await awaitFirstLookups(plan.added, DEFAULT_DISCOVERY_TIMEOUT_MS, this.#logger);
      for (const c of plan.added) c.startHealthChecks();
      await Promise.all(plan.added.map((c) => c.whenHealthChecked()));
      health = healthEntries(plan.clusters.values());
      // Workers still starting too: they apply it once they serve.
      const slots = [...this.#slots.values()].filter((s) => s.initialised);
      const outcomes = await this.#applyOnWorkers(slots, next, health);
      const refused = outcomes.filter((o) => o.failure !== null);
      if (refused.length > 0) {
        const applied = outcomes.filter((o) => o.failure === null).map((o) => o.slot);
        if (applied.length > 0) {
          this.#logger.error(
            { applied: applied.map((s) => s.id), refused: refused.map((o) => o.slot.id) },
            'workers disagree on the new config; giving the running one back to those that applied it',
          );
          await this.#applyOnWorkers(
            applied,
            running.config,
            healthEntries(running.clusters.values()),
          );
        }
        const first = refused[0]?.failure;
        if (first !== undefined && first !== null && first.issues.length > 0)
          throw new ApplyError(first.issues);
        throw new Error(
          refused.map((o) => `worker ${String(o.slot.id)}: ${o.failure?.message ?? ''}`).join('; '),
        );
      }
    } catch (error) {
      await plan.abort();
      throw error;
    }
    const retired = plan.commit();
    this.#clusters = plan.clusters;
    this.#config = next;
    this.#sent = new Map(health.map((e) => [healthKey(e), e.healthy]));
    for (const r of retired) {
      drainCluster(r).catch((error: unknown) => {
        this.#logger.warn({ err: error, name: r.cluster.name }, 'error while draining');
      });
    }
    if (!sameConfig(running.config.admin, next.admin))
      this.#logger.warn('admin address changes take effect at the next restart');
    if (!sameConfig(running.config.workers, next.workers))
      this.#logger.warn('workers changes take effect at the next restart');
  }

  async #applyOnWorkers(
    slots: readonly Slot[],
    config: Config,
    health: readonly HealthEntry[],
  ): Promise<{ slot: Slot; failure: ApplyFailure | null }[]> {
    const dns = this.#dns.entries;
    const replies = await Promise.all(
      slots.map(async (slot) => ({
        slot,
        reply: await this.#ask(
          slot,
          (seq) => ({ type: 'config', seq, config, health, dns }),
          APPLY_TIMEOUT_MS,
        ),
      })),
    );
    // A worker that exited meanwhile is replaced with whatever config is running by then.
    return replies.flatMap(({ slot, reply }) =>
      reply.kind === 'exited' ? [] : [{ slot, failure: reply.body as ApplyFailure | null }],
    );
  }

  /** Asks every ready worker for a report; the bodies of those that answered, by worker id. */
  async #collect(kind: ReportKind): Promise<{ worker: number; body: unknown }[]> {
    const slots = [...this.#slots.values()].filter((s) => s.ready);
    const replies = await Promise.all(
      slots.map(async (slot) => ({
        worker: slot.id,
        reply: await this.#ask(slot, (seq) => ({ type: 'report', seq, kind }), REPORT_TIMEOUT_MS),
      })),
    );
    return replies.flatMap(({ worker, reply }) =>
      reply.kind === 'reply' ? [{ worker, body: reply.body }] : [],
    );
  }

  async #metrics(): Promise<MetricsExposition> {
    const reports = await this.#collect('metrics');
    const workers: MetricJson[][] = [];
    for (const { worker, body } of reports) {
      const metrics = parseWorkerMetrics(body);
      if (metrics === undefined) this.#logger.warn({ worker }, 'worker sent malformed metrics');
      else workers.push(metrics);
    }
    const own = parseWorkerMetrics(await this.#registry.getMetricsAsJSON()) ?? [];
    return aggregateMetrics(own, workers);
  }

  async #clustersView(): Promise<unknown> {
    const reports = await this.#collect('clusters');
    const workers = reports.flatMap(({ worker, body }) => {
      const clusters = parseWorkerClusters(body);
      if (clusters === undefined) this.#logger.warn({ worker }, 'worker sent a malformed view');
      return clusters === undefined ? [] : [{ worker, clusters }];
    });
    workers.sort((a, b) => a.worker - b.worker);
    return mergeClusters(clustersView(this.#clusters.values()), workers);
  }

  async #adminReload(): Promise<AdminReply> {
    return reloadReply(await this.reload('admin'));
  }

  /**
   * SIGTERM: /readyz turns 503 at once, every worker drains (its own
   * drain_delay, then drain_timeout for calls in flight) and exits; then
   * the control plane closes. Workers still running after drain_delay +
   * drain_timeout + 5 s are killed.
   */
  async drain(): Promise<void> {
    if (this.#draining) return;
    this.#draining = true;
    this.#watcher?.close();
    this.#watcher = undefined;
    clearInterval(this.#poll);
    const delayMs = requireDuration(this.#config.drain_delay ?? DEFAULTS.drainDelay);
    const timeoutMs = requireDuration(this.#config.drain_timeout ?? DEFAULTS.drainTimeout);
    this.#logger.info(
      { drainDelayMs: delayMs, drainTimeoutMs: timeoutMs, workers: this.#slots.size },
      'draining',
    );
    const exited = new Promise<void>((resolve) => {
      if (this.#slots.size === 0) resolve();
      else this.#exitWaiters.push(resolve);
    });
    for (const slot of this.#slots.values()) {
      // A worker still starting has no calls and does not listen for `drain` yet.
      if (slot.ready) this.#send(slot, { type: 'drain' });
      else slot.process.process.kill('SIGTERM');
    }
    let timer: NodeJS.Timeout | undefined;
    const late = new Promise<'late'>((resolve) => {
      timer = setTimeout(() => resolve('late'), delayMs + timeoutMs + 5_000);
    });
    if ((await Promise.race([exited, late])) === 'late') {
      this.#logger.error(
        { workers: [...this.#slots.keys()] },
        'workers did not exit; killing them',
      );
      this.kill();
      await exited;
    }
    clearTimeout(timer);
    await this.#closeControlPlane();
    this.#logger.info('closed');
  }

  /** Kills every worker at once (a second signal). */
  kill(): void {
    this.#draining = true;
    for (const slot of this.#slots.values()) slot.process.process.kill('SIGKILL');
  }

  async #closeControlPlane(): Promise<void> {
    clearInterval(this.#poll);
    this.#watcher?.close();
    this.#watcher = undefined;
    await Promise.all([...this.#clusters.values()].map((c) => c.close()));
    await this.#admin?.close();
    this.#admin = undefined;
  }
}
