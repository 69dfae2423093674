/**
 * The admin endpoint (HTTP/1.1): `/healthz` answers 200 while the process
 * runs (liveness); `/readyz` answers 200 only while the proxy takes traffic
 * (readiness: 503 before listeners are bound and the first round of health
 * checks ended, and while shutting down); `/clusters` shows each cluster's
 * endpoints and their health (JSON, see docs/health.md); `/metrics` the
 * Prometheus text exposition (docs/metrics.md); `/config` the running config
 * (JSON, secrets redacted) and `POST /reload` reloads the config file
 * (docs/operations.md).
 */
import http, { type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { parseHostPort } from '../config/host-port.js';

export interface AdminState {
  readonly ready: boolean;
  /** The body of `GET /clusters` (JSON, or a promise of it); 404 when absent. */
  clusters?(): unknown;
  /** The body of `GET /metrics` and its content type; 404 when absent. */
  metrics?(): Promise<MetricsExposition>;
  /** The body of `GET /config` (JSON); 404 when absent. */
  config?(): unknown;
  /** Handles `POST /reload`; 404 when absent. */
  reload?(): Promise<AdminReply>;
}

export interface AdminReply {
  readonly status: number;
  /** Plain text; a newline is added. */
  readonly body: string;
}

export interface MetricsExposition {
  readonly contentType: string;
  readonly body: string;
}

export class AdminServer {
  readonly #server: Server;

  private constructor(state: AdminState) {
    this.#server = http.createServer((req, res) => {
      const path = (req.url ?? '/').split('?')[0];
      // No endpoint reads a request body; drain it so keep-alive connections stay usable.
      req.resume();
      const reply = (status: number, body: string): void => {
        res.writeHead(status, { 'content-type': 'text/plain; charset=utf-8' }).end(`${body}\n`);
      };
      const json = (body: unknown): void => {
        res
          .writeHead(200, { 'content-type': 'application/json' })
          .end(`${JSON.stringify(body, null, 2)}\n`);
      };
      if (path === '/reload' && state.reload !== undefined) {
        if (req.method !== 'POST') reply(405, 'use POST /reload');
        else
          state.reload().then(
            (result) => reply(result.status, result.body),
            (error: unknown) => reply(500, `reload: ${String(error)}`),
          );
      } else if (req.method !== 'GET' && req.method !== 'HEAD') reply(405, 'method not allowed');
      else if (path === '/config' && state.config !== undefined) json(state.config());
      else if (path === '/healthz') reply(200, 'ok');
      else if (path === '/readyz')
        reply(state.ready ? 200 : 503, state.ready ? 'ready' : 'not ready');
      else if (path === '/clusters' && state.clusters !== undefined)
        Promise.resolve(state.clusters()).then(json, (error: unknown) =>
          reply(500, `clusters: ${String(error)}`),
        );
      else if (path === '/metrics' && state.metrics !== undefined)
        state.metrics().then(
          (metrics) =>
            res.writeHead(200, { 'content-type': metrics.contentType }).end(metrics.body),
          (error: unknown) => reply(500, `metrics: ${String(error)}`),
        );
      else
        reply(
          404,
          'not found: try /healthz, /readyz, /clusters, /metrics, /config or POST /reload',
        );
    });
  }

  static async start(address: string, state: AdminState): Promise<AdminServer> {
    const admin = new AdminServer(state);
    const parsed = parseHostPort(address);
    if (parsed === undefined) throw new Error(`admin: bad address ${address}`);
    await new Promise<void>((resolve, reject) => {
      admin.#server.once('error', reject);
      admin.#server.listen(parsed.port, parsed.host, () => {
        admin.#server.off('error', reject);
        resolve();
      });
    });
    return admin;
  }

  get address(): { host: string; port: number } {
    const info = this.#server.address() as AddressInfo;
    return { host: info.address, port: info.port };
  }

  async close(): Promise<void> {
    this.#server.closeAllConnections();
    await new Promise<void>((resolve) => this.#server.close(() => resolve()));
  }
}
