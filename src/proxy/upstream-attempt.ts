/**
 * One attempt at the backend side of a call: the endpoint it runs on, its
 * upstream stream, and what it has received so far. A call may run several
 * (transparent retries and retries one after another, hedged attempts at
 * once); each attempt hands its events to the call together with itself, so
 * the call can tell a live attempt from one it gave up.
 */
import type { IncomingHttpHeaders } from 'node:http2';
import type { ProxyError } from '../errors/proxy-error.js';
import type { Endpoint } from '../upstream/endpoint.js';
import type { UpstreamCall, UpstreamHandler } from '../upstream/upstream-call.js';

/** How an attempt came about (the access log and metrics say so). */
export type AttemptKind = 'first' | 'retry' | 'hedge' | 'transparent';

/** The call's side of its attempts' events. */
export interface AttemptOwner {
  onAttemptResponse(attempt: UpstreamAttempt, headers: IncomingHttpHeaders, end: boolean): void;
  onAttemptData(attempt: UpstreamAttempt, chunk: Buffer): void;
  onAttemptEnd(attempt: UpstreamAttempt): void;
  onAttemptDrain(attempt: UpstreamAttempt): void;
  onAttemptError(attempt: UpstreamAttempt, error: ProxyError): void;
  /** The attempt's held headers were not settled by the read that brought them. */
  onHoldAfterRead(attempt: UpstreamAttempt): void;
}

export class UpstreamAttempt implements UpstreamHandler {
  readonly startedAt = performance.now();
  /** Set once the stream is open (undefined if opening it failed). */
  up: UpstreamCall | undefined;
  /** Response headers held while a retry may still follow (retry policies only). */
  heldHeaders: IncomingHttpHeaders | undefined;
  /** When the headers were held (performance.now()), and for how long at most. */
  heldAt = 0;
  holdMs = 0;
  trailers: IncomingHttpHeaders | undefined;
  /** The upstream stream asked the client side to wait (write returned false). */
  congested = false;
  /** Holds a slot of the cluster's retry budget (a hedged attempt). */
  budgetSlot = false;
  /** Allocated with the first timer: most attempts never arm one. */
  #timers: NodeJS.Timeout[] | undefined;

  constructor(
    private readonly owner: AttemptOwner,
    readonly endpoint: Endpoint,
    readonly kind: AttemptKind,
  ) {}

  /** Runs `callback` after `ms` unless the attempt is stopped first. */
  after(ms: number, callback: () => void): void {
    (this.#timers ??= []).push(setTimeout(callback, ms));
  }

  /** Stops the attempt's timers (per-try timeout, hold). */
  stopTimers(): void {
    const timers = this.#timers;
    if (timers === undefined) return;
    this.#timers = undefined;
    for (const timer of timers) clearTimeout(timer);
  }

  /** Stops its timers and cancels its stream (no-op once the response ended). */
  cancel(): void {
    this.stopTimers();
    this.up?.cancel();
  }

  onResponse(headers: IncomingHttpHeaders, endStream: boolean): void {
    this.owner.onAttemptResponse(this, headers, endStream);
  }

  onResponseData(chunk: Buffer): void {
    this.owner.onAttemptData(this, chunk);
  }

  onTrailers(trailers: IncomingHttpHeaders): void {
    this.trailers = trailers;
  }

  onResponseEnd(): void {
    this.owner.onAttemptEnd(this);
  }

  onRequestDrain(): void {
    this.owner.onAttemptDrain(this);
  }

  onUpstreamError(error: ProxyError): void {
    this.owner.onAttemptError(this, error);
  }

  holdOutlivedRead(): void {
    this.owner.onHoldAfterRead(this);
  }
}
