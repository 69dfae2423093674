/**
 * What an active health checker does: one probe of one endpoint. The
 * scheduler (health-check-scheduler.ts) owns the timing, the timeout (it
 * aborts `signal`) and the thresholds; a checker only answers "did this one
 * probe pass".
 */

/** The part of an endpoint a checker needs. */
export interface CheckTarget {
  /** `host:port` as written in config, or `ip:port` found by DNS discovery. */
  readonly address: string;
}

export type CheckResult =
  { readonly healthy: true } | { readonly healthy: false; readonly reason: string };

export const HEALTHY: CheckResult = Object.freeze({ healthy: true });

export function unhealthy(reason: string): CheckResult {
  return { healthy: false, reason };
}

export interface HealthChecker {
  /**
   * Probes `endpoint` once. Resolves (never rejects) with the result; an
   * aborted `signal` (the check timed out, or checks stopped) ends the probe
   * as unhealthy.
   */
  check(endpoint: CheckTarget, signal: AbortSignal): Promise<CheckResult>;
  /** The endpoint left the cluster: drop anything cached for it. */
  forget(endpoint: CheckTarget): void;
  /** Checks stopped: release connections. */
  close(): Promise<void>;
}

/** Why a probe was aborted, for its result. */
export function abortReason(signal: AbortSignal): string {
  const reason: unknown = signal.reason;
  return reason instanceof Error ? reason.message : 'check aborted';
}
