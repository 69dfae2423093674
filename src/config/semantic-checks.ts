/**
 * Rules the schema cannot express: names unique per section, each route
 * naming one cluster or a split over distinct clusters, all of which exist,
 * and listeners that do not fight over a port.
 *
 * These run even when the schema check failed, so one run reports every
 * mistake. Each rule therefore reads the data as `unknown` and looks only at
 * the parts that are well-formed, and skips itself when a broken part could
 * make its verdict wrong (e.g. a cluster without a valid name might be the
 * one a route refers to).
 */
import { isIPv4, isIPv6 } from 'node:net';
import { closestMatch } from './closest-match.js';
import { parseHostPort } from './host-port.js';
import { isRecord } from './is-record.js';
import { healthCheckIssues } from './health-check-checks.js';
import { lbOptionIssues } from './lb-checks.js';
import { retryHedgeIssues } from './retry-checks.js';
import { RouteSchema } from './schema.js';
import type { NodeIssue, PathSegment, YamlLocator } from './yaml-locator.js';

export function semanticIssues(data: unknown, locator: YamlLocator): NodeIssue[] {
  if (!isRecord(data)) return [];
  return [
    ...duplicateNames(data, 'listeners', 'listener', locator),
    ...duplicateNames(data, 'routes', 'route', locator),
    ...duplicateNames(data, 'clusters', 'cluster', locator),
    ...routeClusterChoice(data, locator),
    ...unknownClusters(data),
    ...addressConflicts(data, locator),
    ...lbOptionIssues(data),
    ...healthCheckIssues(data),
    ...retryHedgeIssues(data),
  ];
}

function duplicateNames(
  config: Readonly<Record<string, unknown>>,
  section: string,
  noun: string,
  locator: YamlLocator,
): NodeIssue[] {
  const issues: NodeIssue[] = [];
  const firstLines = new Map<string, number>();
  entries(config[section]).forEach((entry, index) => {
    const name = isRecord(entry) ? entry['name'] : undefined;
    if (typeof name !== 'string') return;
    const path = [section, index, 'name'];
    const firstLine = firstLines.get(name);
    if (firstLine === undefined) firstLines.set(name, locator.position(path).line);
    else
      issues.push({
        path,
        at: 'value',
        message: `duplicate ${noun} name "${name}" (first at line ${firstLine})`,
      });
  });
  return issues;
}

/**
 * A route sends its calls to `cluster` or splits them over `clusters`:
 * exactly one of the two. Names in a split are unique, so each weight is
 * the whole of that cluster's share.
 */
function routeClusterChoice(
  config: Readonly<Record<string, unknown>>,
  locator: YamlLocator,
): NodeIssue[] {
  const issues: NodeIssue[] = [];
  entries(config['routes']).forEach((route, index) => {
    if (!isRecord(route)) return;
    const name = route['name'];
    const label = typeof name === 'string' ? `route "${name}"` : 'route';
    const hasCluster = route['cluster'] !== undefined;
    const hasClusters = route['clusters'] !== undefined;
    if (hasCluster && hasClusters) {
      issues.push({
        path: ['routes', index, 'clusters'],
        at: 'key',
        message: `${label} has both cluster and clusters; keep one`,
      });
    } else if (!hasCluster && !hasClusters && !hasMisspeltClusterKey(route)) {
      issues.push({
        path: ['routes', index],
        at: 'value',
        message: `${label} needs cluster or clusters`,
      });
    }
    const firstLines = new Map<string, number>();
    entries(route['clusters']).forEach((entry, position) => {
      const clusterName = isRecord(entry) ? entry['name'] : undefined;
      if (typeof clusterName !== 'string') return;
      const path = ['routes', index, 'clusters', position, 'name'];
      const firstLine = firstLines.get(clusterName);
      if (firstLine === undefined) firstLines.set(clusterName, locator.position(path).line);
      else
        issues.push({
          path,
          at: 'value',
          message: `duplicate cluster "${clusterName}" in ${label} (first at line ${firstLine})`,
        });
    });
  });
  return issues;
}

/** `clustr: x` is reported as an unknown key with a suggestion; "needs cluster" would repeat it. */
function hasMisspeltClusterKey(route: Readonly<Record<string, unknown>>): boolean {
  return Object.keys(route).some(
    (key) => !ROUTE_KEYS.includes(key) && closestMatch(key, ['cluster', 'clusters']) !== undefined,
  );
}

const ROUTE_KEYS: readonly string[] = Object.keys(RouteSchema.properties);

function unknownClusters(config: Readonly<Record<string, unknown>>): NodeIssue[] {
  const clusters = entries(config['clusters']);
  const names = clusters.map((cluster) => (isRecord(cluster) ? cluster['name'] : undefined));
  if (names.length === 0 || !names.every((name) => typeof name === 'string')) return [];
  const known = [...new Set(names)];
  const issues: NodeIssue[] = [];
  const check = (cluster: unknown, path: readonly PathSegment[]): void => {
    if (typeof cluster !== 'string' || known.includes(cluster)) return;
    issues.push({
      path,
      at: 'value',
      message: `unknown cluster "${cluster}"; clusters are: ${known.join(', ')}`,
    });
  };
  entries(config['routes']).forEach((route, index) => {
    if (!isRecord(route)) return;
    check(route['cluster'], ['routes', index, 'cluster']);
    entries(route['clusters']).forEach((entry, position) => {
      check(isRecord(entry) ? entry['name'] : undefined, [
        'routes',
        index,
        'clusters',
        position,
        'name',
      ]);
    });
  });
  return issues;
}

interface Binding {
  readonly path: readonly PathSegment[];
  readonly text: string;
  readonly host: string;
  readonly port: number;
  readonly line: number;
  readonly col: number;
}

/**
 * Two sockets bound to the same port fail at startup with EADDRINUSE; catch
 * it here with both positions instead. Port 0 is exempt (the OS picks a free
 * port each time), and host names are only compared literally, since what
 * they resolve to is not known until startup.
 */
function addressConflicts(
  config: Readonly<Record<string, unknown>>,
  locator: YamlLocator,
): NodeIssue[] {
  const candidates: (readonly PathSegment[])[] = entries(config['listeners']).map((_, index) => [
    'listeners',
    index,
    'address',
  ]);
  candidates.push(['admin', 'address']);
  const bindings = candidates
    .flatMap((path) => {
      const text = valueAt(config, path);
      if (typeof text !== 'string') return [];
      const parsed = parseHostPort(text);
      if (parsed === undefined || parsed.port === 0) return [];
      const { line, col } = locator.position(path);
      const binding: Binding = {
        path,
        text,
        host: canonicalHost(parsed.host),
        port: parsed.port,
        line,
        col,
      };
      return [binding];
    })
    // Report the later one in the file, pointing back to the earlier.
    .sort((a, b) => a.line - b.line || a.col - b.col);

  const issues: NodeIssue[] = [];
  bindings.forEach((binding, index) => {
    const earlier = bindings.slice(0, index).find((other) => overlaps(other, binding));
    if (earlier === undefined) return;
    const message =
      earlier.host === binding.host
        ? `duplicate address "${binding.text}" (first at line ${earlier.line})`
        : `address "${binding.text}" overlaps "${earlier.text}" (line ${earlier.line})`;
    issues.push({ path: binding.path, at: 'value', message });
  });
  return issues;
}

function overlaps(a: Binding, b: Binding): boolean {
  if (a.port !== b.port) return false;
  if (a.host === b.host) return true;
  // `::` is dual-stack in Node by default, so it takes the port on every address.
  if (a.host === '::' || b.host === '::') return true;
  return (a.host === '0.0.0.0' && isIPv4(b.host)) || (b.host === '0.0.0.0' && isIPv4(a.host));
}

/** One spelling per address, so `[::0]` and `[::]` or `Example.com` and `example.com` compare equal. */
function canonicalHost(host: string): string {
  if (!isIPv6(host)) return host.toLowerCase().replace(/\.$/, '');
  try {
    return new URL(`http://[${host}]/`).hostname.slice(1, -1);
  } catch {
    // Zone ids (`fe80::1%eth0`) are not valid in URLs; compare those as written.
    return host.toLowerCase();
  }
}

function entries(value: unknown): readonly unknown[] {
  return Array.isArray(value) ? value : [];
}

function valueAt(root: unknown, path: readonly PathSegment[]): unknown {
  let node = root;
  for (const segment of path) {
    if (Array.isArray(node) && typeof segment === 'number') node = node[segment];
    else if (isRecord(node) && typeof segment === 'string') node = node[segment];
    else return undefined;
  }
  return node;
}
