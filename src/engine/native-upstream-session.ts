/**
 * One switchyard-engine HTTP/2 connection to an endpoint, for the session
 * pool: the same contract as the node:http2 `UpstreamSession` over
 * `connectH2`. The lifecycle (connect timeout until the backend's SETTINGS,
 * GOAWAY's last-stream-id, idle close, keepalive PINGs, a reset budget) is
 * `SessionLifecycle`'s; this class feeds it the connection's events.
 */
import net from 'node:net';
import { NO_ERROR, errorCodeName } from '../h2/constants.js';
import { connectH2 } from '../h2/h2-client.js';
import type { H2Connection } from '../h2/h2-connection.js';
import { H2ConnectionError } from '../h2/h2-error.js';
import type { SessionEvents, SessionPlan } from '../upstream/pooled-session.js';
import {
  MAX_SETTING,
  SessionLifecycle,
  type UpstreamSessionOptions,
} from '../upstream/session-lifecycle.js';
import type {
  UpstreamCall,
  UpstreamHandler,
  UpstreamRequestHead,
} from '../upstream/upstream-call.js';
import { tlsConnectOptions } from '../upstream/upstream-tls.js';
import { NativeUpstreamCall } from './native-upstream-call.js';

export class NativeUpstreamSession extends SessionLifecycle {
  readonly connection: H2Connection;
  #gone = false;
  #goneWaiters: (() => void)[] = [];

  constructor(
    authority: string,
    options: UpstreamSessionOptions,
    plan: SessionPlan,
    events: SessionEvents,
  ) {
    super(authority, options, plan, events);
    const { host, port } = splitAuthority(authority);
    const tls = options.tls;
    this.connection = connectH2(
      host,
      port,
      {
        role: 'client',
        settings: { initialWindowSize: options.initialWindowSize, enablePush: false },
        connectionWindow: options.connectionWindowSize,
        // As UpstreamSession: never more before SETTINGS than the backend
        // allowed last time, so calls made while connecting are not refused.
        peerMaxConcurrentStreams: Math.min(Math.max(1, plan.peerMaxConcurrentStreams), MAX_SETTING),
        ...(tls === undefined
          ? {}
          : {
              tls: {
                ...tlsConnectOptions(tls),
                servername: tls.serverName ?? (net.isIP(host) === 0 ? host : ''),
              },
            }),
      },
      {
        onRemoteSettings: (settings) => this.settingsReceived(settings.maxConcurrentStreams),
        onGoaway: (code, lastStreamId, debugData) =>
          this.goawayReceived(code, lastStreamId, debugData.toString('latin1')),
        // A GOAWAY with an error code (reported after onGoaway) is not a
        // failure of ours: calls it ends say "connection closed after GOAWAY <code>".
        onError: (error) =>
          this.sessionError(
            error,
            !(error instanceof H2ConnectionError && error.code === this.goawayCode),
          ),
        onClose: () => this.#onClose(),
      },
    );
    this.connection.socket.once(tls === undefined ? 'connect' : 'secureConnect', () => {
      this.markConnected();
    });
  }

  openCall(
    headers: UpstreamRequestHead,
    endStream: boolean,
    handler: UpstreamHandler,
    onConnected?: () => void,
  ): UpstreamCall {
    return new NativeUpstreamCall(this, headers, endStream, handler, onConnected);
  }

  close(): void {
    if (!this.#gone) this.connection.close();
  }

  destroy(error: Error): void {
    if (this.#gone) return;
    this.noteFailure(error);
    this.connection.destroy(error);
  }

  /** Closed, or destroyed (at once, like node:http2's `destroyed`, before the socket's close). */
  get gone(): boolean {
    return this.#gone || this.connection.closed;
  }

  /** Resolves once the socket closed and the pool heard of it (onClose). */
  whenGone(): Promise<void> {
    if (this.#gone) return Promise.resolve();
    return new Promise((resolve) => this.#goneWaiters.push(resolve));
  }

  /** Why the connection is failing or failed, for a call's error message. */
  describeLoss(): string {
    const goaway = this.goawayCode;
    return (
      this.failure?.message ??
      (goaway === undefined || goaway === NO_ERROR
        ? 'connection closed'
        : `connection closed after GOAWAY ${errorCodeName(goaway)}`)
    );
  }

  protected get closing(): boolean {
    return this.#gone || !this.connection.acceptingStreams;
  }

  protected sendPing(onAck: (error: Error | null) => void): boolean {
    return this.connection.ping(onAck);
  }

  #onClose(): void {
    this.#gone = true;
    this.sessionClosed();
    const waiters = this.#goneWaiters;
    this.#goneWaiters = [];
    for (const waiter of waiters) waiter();
  }
}

function splitAuthority(authority: string): { host: string; port: number } {
  const colon = authority.lastIndexOf(':');
  const host = authority.slice(0, colon).replace(/^\[(.*)\]$/, '$1');
  return { host, port: Number(authority.slice(colon + 1)) };
}
