/**
 * A route's `hedge:` policy, compiled once per config load (gRFC A6
 * hedging): how long to wait before sending the call to another endpoint,
 * how many attempts at most, and which failures of one attempt leave the
 * others running. The request is kept for the later attempts up to the
 * same replay limit as retries.
 */
import { requireByteSize } from '../config/byte-size.js';
import { DEFAULTS, type HedgePolicyConfig } from '../config/schema.js';
import { requireDuration } from '../config/duration.js';
import type { ProxyError } from '../errors/proxy-error.js';
import { FailureConditions } from './failure-conditions.js';

export class HedgePolicy {
  readonly delayMs: number;
  readonly maxAttempts: number;
  readonly bufferLimit: number;
  readonly #nonFatal: FailureConditions;

  constructor(config: HedgePolicyConfig) {
    this.delayMs = requireDuration(config.delay);
    this.maxAttempts = config.max_attempts ?? DEFAULTS.hedgeMaxAttempts;
    // Hedging has no buffer_limit of its own: the retry default (64 KiB).
    this.bufferLimit = requireByteSize(DEFAULTS.retryBufferLimit);
    this.#nonFatal = new FailureConditions(config.non_fatal_on ?? DEFAULTS.hedgeNonFatalOn);
  }

  /** A reply with this status ends only its own attempt; the others go on. */
  nonFatalStatus(grpcStatus: number): boolean {
    return this.#nonFatal.matchesStatus(grpcStatus);
  }

  nonFatalError(error: ProxyError): boolean {
    return this.#nonFatal.matchesError(error);
  }
}
