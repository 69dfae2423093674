/**
 * `grpc_code` label values by index, so a call's status picks its series
 * with an array read instead of building a `<method>\n<code>` key.
 */
import { GrpcStatus, grpcStatusName } from '../grpc/status.js';

const KNOWN_CODES: ReadonlySet<number> = new Set(Object.values<number>(GrpcStatus));

/** The status name (`OK`, `UNAVAILABLE`); a code outside the table counts as UNKNOWN. */
export function grpcCodeLabel(status: number | undefined): string {
  if (status === undefined || !KNOWN_CODES.has(status)) return 'UNKNOWN';
  return grpcStatusName(status);
}

const MAX_CODE = Math.max(...KNOWN_CODES);

/** Index `i` holds `grpcCodeLabel(i)`; the last slot is for every code outside 0..MAX_CODE. */
export const GRPC_CODE_LABELS: readonly string[] = [
  ...Array.from({ length: MAX_CODE + 1 }, (_, code) => grpcCodeLabel(code)),
  'UNKNOWN',
];

/** The index in GRPC_CODE_LABELS of `status`'s label. */
export function grpcCodeIndex(status: number | undefined): number {
  if (status !== undefined && status >= 0 && status <= MAX_CODE && Number.isInteger(status)) {
    return status;
  }
  return MAX_CODE + 1;
}
