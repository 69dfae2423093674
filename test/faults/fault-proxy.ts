/**
 * The fault-injection suite's set-up: a proxy whose route `echo` goes to the
 * faulty backend under test (cluster `echo`) and whose route `control`
 * (requests carrying `x-control: 1`) goes to a healthy grpc-js echo backend,
 * plus a control client on a connection of its own. After each fault,
 * `expectRecovered` checks what every fault must leave behind: the proxy
 * still serves the control client, and the live upstream streams and
 * sessions, the downstream connections and the heap are back to baseline.
 */
import { readFileSync } from 'node:fs';
import v8 from 'node:v8';
import vm from 'node:vm';
import * as grpc from '@grpc/grpc-js';
import type { Test } from 'tap';
import type { Config } from '../../src/config/schema.js';
import type { Switchyard } from '../../src/app/switchyard.js';
import type { TestContext } from '../helpers/context.js';
import { collect, type EchoClient } from '../helpers/echo-client.js';
import { startBackends, connectClient } from '../helpers/harness.js';
import {
  proxyConfig,
  startProxy,
  CLUSTER_NAME,
  type ProxyConfigOverrides,
} from '../helpers/proxy.js';
import { until } from '../helpers/upstream-backend.js';

const CONTROL = 'control';

/** A tap test, which `expectRecovered` asserts with. */
export type Asserting = Test;

export interface Counts {
  /** Streams open on the faulty cluster's upstream sessions. */
  readonly upstreamStreams: number;
  /** Open upstream sessions of the faulty cluster. */
  readonly upstreamSessions: number;
  /** TCP connections accepted by the listener and not yet closed by the proxy. */
  readonly downstreamConnections: number;
  /** V8 heap in use after a full GC, in bytes. */
  readonly heapUsed: number;
}

export interface FaultProxy {
  readonly proxy: Switchyard;
  /** Listener `main`, 127.0.0.1:PORT. */
  readonly address: string;
  readonly port: number;
  /** A grpc-js client on its own connection whose calls take route `control`. */
  readonly control: EchoClient;
  /** Metadata that sends a call to the control backend. */
  controlMetadata(): grpc.Metadata;
  /** Counts now (forces a GC first). */
  counts(): Counts;
  /**
   * The control client works, no upstream stream is open, upstream sessions
   * are back to the baseline's (at most one kept per endpoint), downstream
   * connections to the baseline's, and the heap within HEAP_SLACK of it.
   */
  expectRecovered(t: Asserting, baseline: Counts): Promise<void>;
}

/** Heap growth after a fault that is still "back near baseline". Generous: V8 keeps some. */
export const HEAP_SLACK = 16 * 1024 * 1024;

/** The faulty backend at `faulty` behind route `echo`; a healthy one behind route `control`. */
export async function faultProxy(
  t: TestContext,
  faulty: string,
  overrides: ProxyConfigOverrides = {},
): Promise<FaultProxy> {
  const [controlBackend] = await startBackends(t, [CONTROL]);
  if (controlBackend === undefined) throw new Error('no control backend');
  const base = proxyConfig([faulty], overrides);
  const config: Config = {
    ...base,
    routes: [
      { name: CONTROL, match: { headers: { 'x-control': '1' } }, cluster: CONTROL },
      ...base.routes,
    ],
    clusters: [...base.clusters, { name: CONTROL, endpoints: [controlBackend.address] }],
  };
  const { proxy, address } = await startProxy(t, config);
  const port = proxy.listenerAddress('main').port;
  const control = connectClient(t, address);
  const controlMetadata = (): grpc.Metadata => {
    const metadata = new grpc.Metadata();
    metadata.set('x-control', '1');
    return metadata;
  };
  const counts = (): Counts => {
    const pools = (proxy.cluster(CLUSTER_NAME)?.endpoints ?? []).map((e) => e.pool);
    const sessions = pools.flatMap((p) => p.sessions);
    return {
      upstreamStreams: sessions.reduce((sum, s) => sum + s.activeStreams, 0),
      upstreamSessions: sessions.length,
      downstreamConnections: acceptedConnections(port),
      heapUsed: heapAfterGc(),
    };
  };
  // One control call now, so the control connection is part of every baseline.
  const warm = await control.unary({ message: 'warm' }, controlMetadata());
  if (warm.reply.backend !== CONTROL) throw new Error('control route not taken');
  return {
    proxy,
    address,
    port,
    control,
    controlMetadata,
    counts,
    expectRecovered: async (t, baseline) => {
      const unary = await control.unary({ message: 'after' }, controlMetadata());
      t.equal(unary.reply.backend, CONTROL, 'control unary call still served');
      const stream = await collect(
        control.serverStream({ count: 20, replySize: 100 }, controlMetadata()),
      );
      t.equal(stream.replies.length, 20, 'control server stream still served');
      await until(() => counts().upstreamStreams === 0, 'no upstream stream is left open', 5_000);
      // One pooled connection to the (single) endpoint may stay: connections
      // are kept until idle_timeout (1 h by default), by design.
      const sessions = Math.max(baseline.upstreamSessions, 1);
      await until(
        () => counts().upstreamSessions <= sessions,
        `upstream sessions back to ${sessions}`,
        5_000,
      );
      await until(
        () => acceptedConnections(port) <= baseline.downstreamConnections,
        `downstream connections back to ${baseline.downstreamConnections}`,
        5_000,
      );
      const after = counts();
      t.ok(
        after.heapUsed - baseline.heapUsed < HEAP_SLACK,
        `heap after GC ${mib(after.heapUsed)} vs baseline ${mib(baseline.heapUsed)} (slack ${mib(HEAP_SLACK)})`,
      );
    },
  };
}

function mib(bytes: number): string {
  return `${(bytes / 1024 / 1024).toFixed(1)} MiB`;
}

let gc: (() => void) | undefined;

/** Heap used after a full GC (gc exposed at run time: tap gives no per-file node flags). */
export function heapAfterGc(): number {
  if (gc === undefined) {
    v8.setFlagsFromString('--expose-gc');
    gc = vm.runInNewContext('gc') as () => void;
  }
  gc();
  return process.memoryUsage().heapUsed;
}

const LISTEN = '0A';
const ESTABLISHED = '01';
const CLOSE_WAIT = '08';

/**
 * Connections accepted on `port` that the proxy has not closed: ESTABLISHED,
 * or CLOSE_WAIT (the client hung up and the proxy kept its socket, a leak).
 * Read from /proc/net/tcp (IPv4; the listener is on 127.0.0.1), so nothing
 * inside the proxy needs to expose its sessions.
 */
export function acceptedConnections(port: number): number {
  const hexPort = port.toString(16).toUpperCase().padStart(4, '0');
  let count = 0;
  for (const line of readFileSync('/proc/net/tcp', 'utf8').split('\n').slice(1)) {
    const fields = line.trim().split(/\s+/);
    const local = fields[1];
    const state = fields[3];
    if (local === undefined || state === undefined || state === LISTEN) continue;
    if (!local.endsWith(`:${hexPort}`)) continue;
    if (state === ESTABLISHED || state === CLOSE_WAIT) count++;
  }
  return count;
}
