/**
 * Load-balancing options that only make sense together: `ring_hash` hashes
 * on `hash_on.header`, so it needs one, and `hash_on` on any other policy
 * would be silently ignored, so it is an error too. Like every semantic
 * check, reads the data as `unknown` and skips what is malformed (the schema
 * check reports that).
 */
import { isRecord } from './is-record.js';
import { DEFAULTS } from './schema.js';
import type { NodeIssue } from './yaml-locator.js';

export function lbOptionIssues(config: Readonly<Record<string, unknown>>): NodeIssue[] {
  const clusters = config['clusters'];
  if (!Array.isArray(clusters)) return [];
  const issues: NodeIssue[] = [];
  clusters.forEach((cluster: unknown, index) => {
    if (!isRecord(cluster)) return;
    const given = cluster['lb_policy'];
    const policy = given ?? DEFAULTS.lbPolicy;
    if (typeof policy !== 'string') return;
    const name = typeof cluster['name'] === 'string' ? `cluster "${cluster['name']}"` : 'cluster';
    const hashOn = cluster['hash_on'];
    if (policy === 'ring_hash' && hashOn === undefined) {
      issues.push({
        path: ['clusters', index, 'lb_policy'],
        at: 'value',
        message: `${name}: lb_policy ring_hash needs hash_on: { header: NAME }, the request header to hash on`,
      });
    } else if (policy !== 'ring_hash' && hashOn !== undefined) {
      issues.push({
        path: ['clusters', index, 'hash_on'],
        at: 'key',
        message: `${name}: hash_on applies only to lb_policy ring_hash, not ${policy}${given === undefined ? ' (the default)' : ''}`,
      });
    }
  });
  return issues;
}
