/**
 * Flood limits (the "Server-side protections" of docs/h2-engine.md): how many
 * PINGs, SETTINGS and stream resets a peer may cause per second, how many
 * CONTINUATIONs one header block may take, and how many empty frames may come
 * in a row, before the connection ends with GOAWAY ENHANCE_YOUR_CALM.
 *
 * `RateWindow` counts events in fixed one-second windows: two numbers, and
 * the clock is read only when such an event happens (never per DATA frame).
 */

export interface FloodLimits {
  /** PINGs (not ACKs) per second before GOAWAY ENHANCE_YOUR_CALM. Default 100. */
  maxPingsPerSecond?: number;
  /** SETTINGS frames per second. Default 100. */
  maxSettingsPerSecond?: number;
  /** Streams the peer resets (or that we must refuse) per second. Default 100. */
  maxResetsPerSecond?: number;
  /** CONTINUATION frames in one header block. Default 32. */
  maxContinuations?: number;
  /** Frames with an empty payload and no END_STREAM in a row. Default 100. */
  maxEmptyFrames?: number;
}

export type AbuseKind =
  'ping_flood' | 'settings_flood' | 'rapid_reset' | 'continuation_flood' | 'empty_frames';

export const DEFAULT_FLOOD_LIMITS: Readonly<Required<FloodLimits>> = Object.freeze({
  maxPingsPerSecond: 100,
  maxSettingsPerSecond: 100,
  maxResetsPerSecond: 100,
  maxContinuations: 32,
  maxEmptyFrames: 100,
});

export class RateWindow {
  private readonly limit: number;
  private count = 0;
  private windowStart = 0;

  constructor(limit: number) {
    this.limit = limit;
  }

  /** Counts one event; true when this one goes over the limit for the current second. */
  hit(): boolean {
    const now = Date.now();
    if (now - this.windowStart >= 1000) {
      this.windowStart = now;
      this.count = 0;
    }
    return ++this.count > this.limit;
  }
}
