/** The report's last line: everything as one JSON object (docs/benchmark.md, Output). */
import type { Report } from './report.js';
import type { Row, WorkerShare } from './report-summary.js';
import { TARGETS } from './targets.js';

const round = (n: number | undefined, digits: number): number | null =>
  n === undefined || !Number.isFinite(n) ? null : Number(n.toFixed(digits));

const shares = (spread: readonly WorkerShare[] | undefined): object =>
  spread === undefined || spread.length === 0
    ? {}
    : {
        workerSpread: spread.map((s) => ({
          worker: s.worker,
          calls: s.calls,
          share: round(s.share, 3),
        })),
      };

function result(x: Row): object {
  return {
    target: x.name,
    ...(x.name === x.target ? {} : { baseTarget: x.target }),
    ...(x.workers === undefined ? {} : { workers: x.workers }),
    connections: x.connections,
    config: TARGETS.find((t) => t.name === x.target)?.describe,
    status:
      x.outcome.status === 'unavailable'
        ? 'unavailable'
        : x.medians === undefined
          ? 'failed'
          : 'ok',
    ...(x.outcome.status === 'unavailable' ? { reason: x.outcome.reason } : {}),
    ...(x.errors.length > 0 ? { errors: x.errors } : {}),
    ...(x.medians === undefined
      ? {}
      : {
          median: {
            callsPerSec: round(x.medians.callsPerSec, 0),
            p50Ms: round(x.medians.p50Ms, 3),
            p99Ms: round(x.medians.p99Ms, 3),
            callsPerCpuSecond: round(x.medians.callsPerCpuSecond, 0),
            streamMBps: round(x.medians.streamMBps, 2),
            streamMBPerCpuSecond: round(x.medians.streamMBPerCpuSecond, 2),
          },
          callsPerSecVsDirect: round(x.vsDirect, 3),
          callsPerCpuSecondVsNodejs: round(x.vsNodejs, 3),
          ...shares(x.spread),
        }),
    rounds: x.ok.map((o) => ({
      callsPerSec: round(o.callsPerSec, 0),
      calls: o.calls,
      p50Ms: round(o.p50Ms, 3),
      p99Ms: round(o.p99Ms, 3),
      proxyCpuSeconds: round(o.proxyCpuSeconds, 2),
      callsPerCpuSecond: round(o.callsPerCpuSecond, 0),
      streamMBps: round(o.streamMBps, 2),
      streamMBPerCpuSecond: round(o.streamMBPerCpuSecond, 2),
      ...shares(o.workerSpread),
    })),
  };
}

export function reportJson(r: Report, rows: readonly Row[]): string {
  return JSON.stringify({
    bench: 'switchyard-unary',
    startedAt: r.startedAt.toISOString(),
    options: { ...r.options, grpcTimeout: r.grpcTimeout },
    cpus: {
      proxy: r.proxyCpu,
      load: r.loadCpu,
      ...(r.workerCpus.length > 0 ? { workers: r.workerCpus } : {}),
    },
    results: rows.map(result),
  });
}
