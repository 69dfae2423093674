/**
 * Rules for a route's `retry` and `hedge` the schema cannot express: hedging
 * sends a call to several backends, so only a route that says its calls are
 * idempotent may hedge; and a route retries or hedges, not both (gRFC A6).
 */
import { isRecord } from './is-record.js';
import type { NodeIssue } from './yaml-locator.js';

export function retryHedgeIssues(config: Readonly<Record<string, unknown>>): NodeIssue[] {
  const routes = config['routes'];
  if (!Array.isArray(routes)) return [];
  const issues: NodeIssue[] = [];
  routes.forEach((route: unknown, index) => {
    if (!isRecord(route) || route['hedge'] === undefined) return;
    const name = typeof route['name'] === 'string' ? `route "${route['name']}"` : 'route';
    if (route['retry'] !== undefined) {
      issues.push({
        path: ['routes', index, 'hedge'],
        at: 'key',
        message: `${name} has both retry and hedge; keep one (a hedged call is already sent more than once)`,
      });
    }
    if (route['idempotent'] !== true) {
      issues.push({
        path: ['routes', index, 'hedge'],
        at: 'key',
        message: `${name}: hedge sends each call to several backends; allowed only with idempotent: true on the route`,
      });
    }
  });
  return issues;
}
