/**
 * A cluster's `outlier_detection` block with its defaults applied, in
 * milliseconds and gRPC status codes.
 */
import { requireDuration } from '../config/duration.js';
import { DEFAULTS, type OutlierDetectionConfig } from '../config/schema.js';
import { parseGrpcStatusConfigName, type GrpcStatusCode } from '../grpc/status.js';

export interface OutlierSettings {
  /** Failed calls in a row that eject an endpoint. */
  readonly consecutiveFailures: number;
  /** gRPC statuses (as the client saw them) that count as a failed call. */
  readonly failureCodes: ReadonlySet<number>;
  /** First ejection's length; the n-th ejection lasts n times this. */
  readonly baseEjectionMs: number;
  /** Longest ejection. */
  readonly maxEjectionMs: number;
  /** Percent of the cluster's endpoints ejected at once (rounded down, at least one). */
  readonly maxEjectionPercent: number;
}

export function outlierSettings(config: OutlierDetectionConfig): OutlierSettings {
  const names = config.failure_codes ?? DEFAULTS.outlierFailureCodes;
  const failureCodes = new Set<GrpcStatusCode>();
  for (const name of names) {
    const code = parseGrpcStatusConfigName(name);
    if (code === undefined) throw new Error(`not a gRPC status name: "${name}"`);
    failureCodes.add(code);
  }
  return {
    consecutiveFailures: config.consecutive_failures ?? DEFAULTS.outlierConsecutiveFailures,
    failureCodes,
    baseEjectionMs: requireDuration(config.base_ejection_time ?? DEFAULTS.outlierBaseEjectionTime),
    maxEjectionMs: requireDuration(config.max_ejection_time ?? DEFAULTS.outlierMaxEjectionTime),
    maxEjectionPercent: config.max_ejection_percent ?? DEFAULTS.outlierMaxEjectionPercent,
  };
}

/** How many of `members` endpoints may be ejected at once: the percent rounded down, but at least one. */
export function maxEjected(members: number, percent: number): number {
  return Math.max(1, Math.floor((members * percent) / 100));
}
