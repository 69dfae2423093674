/**
 * One attempt at the backend side of a call. A call may make several
 * (transparent retries); events from an attempt that was given up must not
 * reach the call, so each attempt forwards events only while it is current.
 */
import type { IncomingHttpHeaders } from 'node:http2';
import type { ProxyError } from '../errors/proxy-error.js';
import type { UpstreamHandler } from '../upstream/upstream-call.js';

export interface AttemptOwner extends UpstreamHandler {
  /** The attempt whose events count now. */
  readonly currentAttempt: UpstreamAttempt | undefined;
}

export class UpstreamAttempt implements UpstreamHandler {
  constructor(private readonly owner: AttemptOwner) {}

  #current(): boolean {
    return this.owner.currentAttempt === this;
  }

  onResponse(headers: IncomingHttpHeaders, endStream: boolean): void {
    if (this.#current()) this.owner.onResponse(headers, endStream);
  }

  onResponseData(chunk: Buffer): void {
    if (this.#current()) this.owner.onResponseData(chunk);
  }

  onTrailers(trailers: IncomingHttpHeaders): void {
    if (this.#current()) this.owner.onTrailers(trailers);
  }

  onResponseEnd(): void {
    if (this.#current()) this.owner.onResponseEnd();
  }

  onRequestDrain(): void {
    if (this.#current()) this.owner.onRequestDrain();
  }

  onUpstreamError(error: ProxyError): void {
    if (this.#current()) this.owner.onUpstreamError(error);
  }
}
