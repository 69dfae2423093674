/**
 * HAProxy (2.6, Debian's `haproxy`) as a bench target: an h2c gRPC proxy
 * (`mode http`, `bind ... proto h2`, `server ... proto h2`) on one thread,
 * pinned to the proxy CPU like Switchyard. The cfg is written to the run's
 * temp dir and printed by the bench.
 */
import { execFileSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import {
  freePort,
  readyOrExit,
  startQuiet,
  stop,
  TailLines,
  Unavailable,
  waitForPort,
} from './processes.js';
import type { RunningTarget } from './targets.js';

export type HaproxyVariant = 'full' | 'minimal';

export const HAPROXY_VARIANTS: Record<HaproxyVariant, string> = {
  full:
    'closest to Switchyard full: roundrobin over 2 backends (http-reuse always), timeouts 30s, retries 2 on ' +
    'conn-failure/empty-response, maxconn 1024 per server, TCP checks every 1s, observe layer7 ' +
    '(passive), access log to stdout (/dev/null), Prometheus /metrics scraped mid-run',
  minimal: 'minimal: 1 backend (http-reuse always), no checks, no retries, no log',
};

/** `haproxy -v`'s first line, or Unavailable when haproxy is not installed. */
export function haproxyVersion(): string {
  try {
    const out = execFileSync('haproxy', ['-v'], { encoding: 'utf8' });
    return (out.split('\n')[0] ?? '').trim();
  } catch {
    throw new Unavailable('haproxy not installed: apt-get install -y haproxy');
  }
}

export function haproxyConfig(
  variant: HaproxyVariant,
  listenPort: number,
  metricsPort: number,
  backends: readonly number[],
): string {
  const full = variant === 'full';
  const [first] = backends;
  if (first === undefined) throw new Error('no backend');
  const servers = (full ? backends : [first]).map(
    (port, i) =>
      `  server b${i + 1} 127.0.0.1:${port} proto h2` +
      (full ? ' maxconn 1024 check inter 1s observe layer7 error-limit 5 on-error mark-down' : ''),
  );
  return [
    'global',
    '  nbthread 1',
    '  maxconn 4096',
    ...(full ? ['  log stdout format raw local0'] : []),
    'defaults',
    '  mode http',
    '  timeout connect 5s',
    '  timeout client 30s',
    '  timeout server 30s',
    ...(full
      ? [
          '  log global',
          '  option httplog',
          '  retries 2',
          '  retry-on conn-failure empty-response',
          '  option redispatch',
        ]
      : []),
    'frontend grpc',
    `  bind 127.0.0.1:${listenPort} proto h2`,
    '  default_backend backends',
    ...(full
      ? [
          'frontend metrics',
          `  bind 127.0.0.1:${metricsPort}`,
          '  no log',
          '  http-request use-service prometheus-exporter if { path /metrics }',
        ]
      : []),
    'backend backends',
    '  balance roundrobin',
    // Its default (safe) opens a backend connection per client connection;
    // Switchyard multiplexes calls onto a few, and so may HAProxy.
    '  http-reuse always',
    ...servers,
    '',
  ].join('\n');
}

export async function startHaproxy(
  variant: HaproxyVariant,
  backends: readonly number[],
  dir: string,
  cpu: number,
): Promise<RunningTarget & { readonly configPath: string }> {
  const [listenPort, metricsPort] = [await freePort(), await freePort()];
  const configPath = join(dir, `haproxy-${variant}.cfg`);
  writeFileSync(configPath, haproxyConfig(variant, listenPort, metricsPort, backends));
  // -db: foreground, no daemon, no master process: the pid is the one proxy process.
  const child = startQuiet(cpu, ['haproxy', '-db', '-f', configPath]);
  const stderr = new TailLines(child.stderr, 10, (line) => !line.includes('[NOTICE]'));
  try {
    await readyOrExit(child, waitForPort(listenPort, 10_000), () => stderr.text());
  } catch (error) {
    await stop(child);
    throw error instanceof Unavailable ? error : new Unavailable(String(error));
  }
  if (child.pid === undefined) throw new Unavailable('did not start');
  return {
    port: listenPort,
    pid: child.pid,
    metricsUrl: variant === 'full' ? `http://127.0.0.1:${metricsPort}/metrics` : undefined,
    configPath,
    stop: () => stop(child),
  };
}
