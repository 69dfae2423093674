/** A configured HTTP/2 receive window in bytes, capped at the protocol's maximum. */
import { requireByteSize } from './byte-size.js';

/** The largest HTTP/2 flow-control window (RFC 9113 §6.9.1). */
export const MAX_FLOW_CONTROL_WINDOW = 2 ** 31 - 1;

export function flowControlWindow(size: string): number {
  return Math.min(requireByteSize(size), MAX_FLOW_CONTROL_WINDOW);
}
