/**
 * Outlier detection (passive health, a circuit breaker per endpoint): an
 * OutcomeSink that reads every finished call and ejects endpoints that fail
 * `consecutive_failures` calls in a row, in clusters with `outlier_detection`.
 * The per-endpoint state machine (ejection, half-open probe) is OutlierState;
 * this sink classifies outcomes (outlier-verdict.ts) and enforces
 * `max_ejection_percent` per cluster.
 */
import type { Config } from '../config/schema.js';
import type { Logger } from '../log/logger.js';
import type { CallOutcome, OutcomeSink } from '../outcome/call-outcome.js';
import type { Cluster } from '../upstream/cluster.js';
import { systemClock, type Clock } from './clock.js';
import type { HealthFlags } from './health-flags.js';
import { maxEjected, outlierSettings, type OutlierSettings } from './outlier-settings.js';
import { OutlierState } from './outlier-state.js';
import { outlierVerdict } from './outlier-verdict.js';

/** What the detector needs of an endpoint (Endpoint implements it). */
export interface OutlierTarget {
  readonly address: string;
  readonly health: HealthFlags;
  readonly outlierState: OutlierState | undefined;
  attachOutlierState(state: OutlierState): void;
}

/** What the detector needs of a cluster: its current members. */
export interface OutlierCluster {
  readonly name: string;
  readonly endpoints: readonly OutlierTarget[];
}

export interface OutlierDetectorOptions {
  readonly clock?: Clock;
  readonly logger?: Logger;
  /** Told of every ejection this detector makes (worker processes report them to the primary). */
  readonly onEject?: OutlierEjectionHook;
}

/** An endpoint of cluster `cluster` was ejected for `durationMs` from now. */
export type OutlierEjectionHook = (cluster: string, endpoint: string, durationMs: number) => void;

interface Tracked {
  readonly cluster: OutlierCluster;
  readonly settings: OutlierSettings;
}

export class OutlierDetector implements OutcomeSink {
  readonly #clusters = new Map<string, Tracked>();
  readonly #states = new Set<OutlierState>();
  readonly #clock: Clock;
  readonly #logger: Logger | undefined;
  readonly #onEject: OutlierEjectionHook | undefined;
  /** Run by handOver/close: unsubscribes from cluster events. */
  readonly #cleanups: (() => void)[] = [];
  #closed = false;

  constructor(
    clusters: readonly { readonly cluster: OutlierCluster; readonly settings: OutlierSettings }[],
    options: OutlierDetectorOptions = {},
  ) {
    this.#clock = options.clock ?? systemClock;
    this.#logger = options.logger;
    this.#onEject = options.onEject;
    for (const { cluster, settings } of clusters) {
      this.#clusters.set(cluster.name, { cluster, settings });
      this.track(cluster.name);
    }
  }

  /** Gives every current member of the cluster its state (members that joined since, too). */
  track(clusterName: string): void {
    if (this.#closed) return;
    const tracked = this.#clusters.get(clusterName);
    if (tracked === undefined) return;
    for (const endpoint of tracked.cluster.endpoints) this.#stateOf(endpoint);
  }

  record(outcome: CallOutcome): void {
    const endpoint = outcome.endpointRef;
    if (this.#closed || endpoint === undefined || outcome.cluster === undefined) return;
    const tracked = this.#clusters.get(outcome.cluster);
    if (tracked === undefined) return;
    // Every attempt given up for a retry says something about its endpoint too.
    for (const attempt of outcome.earlierAttempts) {
      this.recordVerdict(
        tracked.cluster.name,
        attempt.endpointRef,
        outlierVerdict(attempt, tracked.settings.failureCodes),
      );
    }
    this.recordVerdict(
      tracked.cluster.name,
      endpoint,
      outlierVerdict(outcome, tracked.settings.failureCodes),
      outcome.attempts > 0,
    );
  }

  /**
   * Applies one call's verdict to `endpoint` of cluster `clusterName`
   * (`started`: the call had an attempt on the endpoint, so it may have been
   * a half-open probe).
   */
  recordVerdict(
    clusterName: string,
    endpoint: OutlierTarget,
    verdict: 'success' | 'failure' | 'neutral',
    started = true,
  ): void {
    const tracked = this.#clusters.get(clusterName);
    if (this.#closed || tracked === undefined) return;
    const state = this.#stateOf(endpoint);
    if (verdict === 'success') {
      const wasHalfOpen = state.phase === 'half_open';
      state.success();
      if (wasHalfOpen) {
        this.#logger?.info(
          { cluster: clusterName, endpoint: endpoint.address },
          'outlier probe succeeded; endpoint back in rotation',
        );
      }
      return;
    }
    if (verdict === 'neutral') {
      if (started) state.neutral();
      return;
    }
    if (!state.failure(tracked.settings.consecutiveFailures)) return;
    const { settings, cluster } = tracked;
    if (!state.holdsEjectionSlot) {
      let ejected = 0;
      for (const member of cluster.endpoints) {
        if (member.outlierState?.holdsEjectionSlot === true) ejected++;
      }
      if (ejected >= maxEjected(cluster.endpoints.length, settings.maxEjectionPercent)) {
        this.#logger?.warn(
          { cluster: clusterName, endpoint: endpoint.address, ejected },
          'outlier not ejected: max_ejection_percent reached',
        );
        return;
      }
    }
    state.eject(settings.baseEjectionMs, settings.maxEjectionMs);
    this.#logger?.warn(
      {
        cluster: clusterName,
        endpoint: endpoint.address,
        consecutiveFailures: state.consecutiveFailures,
        timesEjected: state.timesEjected,
        until: state.view.ejected_until,
      },
      'outlier ejected',
    );
    const until = state.view.ejected_until;
    if (this.#onEject !== undefined && until !== null)
      this.#onEject(clusterName, endpoint.address, Date.parse(until) - this.#clock.now());
  }

  /** Stops every ejection timer; outcomes recorded after this are ignored. */
  close(): void {
    this.handOver(undefined);
  }

  /**
   * A reload replaced this detector with `next`: outcomes recorded here are
   * ignored from now on; endpoint states `next` also tracks (endpoints the
   * reload kept) live on, the others' timers stop.
   */
  handOver(next: OutlierDetector | undefined): void {
    this.#closed = true;
    for (const cleanup of this.#cleanups.splice(0)) cleanup();
    const kept = next === undefined ? new Set<OutlierState>() : next.#states;
    for (const state of this.#states) if (!kept.has(state)) state.close();
    this.#states.clear();
  }

  /** Runs `cleanup` when this detector is closed or handed over. */
  onClose(cleanup: () => void): void {
    this.#cleanups.push(cleanup);
  }

  #stateOf(endpoint: OutlierTarget): OutlierState {
    let state = endpoint.outlierState;
    if (state === undefined) {
      state = new OutlierState(endpoint.health, this.#clock);
      endpoint.attachOutlierState(state);
    }
    this.#states.add(state);
    return state;
  }
}

/**
 * The detector for `config`'s clusters with `outlier_detection` (undefined
 * when none has it); it follows their membership changes.
 */
export function createOutlierDetector(
  config: Config,
  clusters: ReadonlyMap<string, Cluster>,
  options: OutlierDetectorOptions = {},
): OutlierDetector | undefined {
  const detected: { cluster: Cluster; settings: OutlierSettings }[] = [];
  for (const clusterConfig of config.clusters) {
    const cluster = clusters.get(clusterConfig.name);
    if (clusterConfig.outlier_detection === undefined || cluster === undefined) continue;
    detected.push({ cluster, settings: outlierSettings(clusterConfig.outlier_detection) });
  }
  if (detected.length === 0) return undefined;
  const detector = new OutlierDetector(detected, options);
  for (const { cluster } of detected) {
    const follow = (): void => {
      detector.track(cluster.name);
    };
    cluster.events.on('membership', follow);
    detector.onClose(() => cluster.events.off('membership', follow));
  }
  return detector;
}
