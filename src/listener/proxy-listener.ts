/**
 * A configured listener as the app sees it, whatever engine carries its
 * connections: `Listener` (node:http2) or `NativeListener` (src/h2). Both
 * hand every stream to the call handler as a `DownstreamCall`.
 */
import type { ListenerConfig } from '../config/schema.js';
import type { Logger } from '../log/logger.js';
import type { DownstreamCall } from './downstream-call.js';

/**
 * Takes a call; may return how to cancel it (ending it with a status of its
 * own) should the listener's grace period run out while it is in flight.
 */
export type CallHandler = (call: DownstreamCall) => CancelCall | undefined;
/** An object, not a closure: the call's handler itself, so accepting a call allocates nothing for it. */
export interface CancelCall {
  cancel(): void;
}

export interface ProxyListener {
  readonly name: string;
  /** The bound address (the real port when config said 0). */
  readonly address: { host: string; port: number };
  /** Calls in flight on this listener. */
  readonly inFlight: number;
  /** Client HTTP/2 connections open on this listener. */
  readonly connections: number;
  /**
   * Stops accepting and closes every client connection gracefully (two
   * GOAWAYs); calls still running after `graceMs` are cancelled.
   */
  close(graceMs: number): Promise<void>;
}

export type ListenerStarter = (
  config: ListenerConfig,
  onCall: CallHandler,
  logger: Logger,
) => Promise<ProxyListener>;
