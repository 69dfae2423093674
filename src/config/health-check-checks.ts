/**
 * `health_check` names exactly one checker kind (grpc, http or tcp). Like
 * every semantic check, reads the data as `unknown` and skips what is
 * malformed (the schema check reports that).
 */
import { isRecord } from './is-record.js';
import type { NodeIssue } from './yaml-locator.js';

const KINDS = ['grpc', 'http', 'tcp'] as const;

export function healthCheckIssues(config: Readonly<Record<string, unknown>>): NodeIssue[] {
  const clusters = config['clusters'];
  if (!Array.isArray(clusters)) return [];
  const issues: NodeIssue[] = [];
  clusters.forEach((cluster: unknown, index) => {
    if (!isRecord(cluster)) return;
    const check = cluster['health_check'];
    if (!isRecord(check)) return;
    const name = typeof cluster['name'] === 'string' ? `cluster "${cluster['name']}"` : 'cluster';
    const given = KINDS.filter((kind) => check[kind] !== undefined);
    if (given.length === 0) {
      issues.push({
        path: ['clusters', index, 'health_check'],
        at: 'key',
        message: `${name}: health_check needs one checker: grpc: {}, http: { path: /healthz } or tcp: {}`,
      });
    } else if (given.length > 1) {
      issues.push({
        path: ['clusters', index, 'health_check', given[1] ?? 'grpc'],
        at: 'key',
        message: `${name}: health_check has ${given.join(' and ')}; give exactly one checker`,
      });
    }
  });
  return issues;
}
