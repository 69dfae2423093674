/**
 * gRPC status codes (doc/statuscodes.md) and their config spelling: lower
 * case with hyphens, as users write them in YAML (`resource-exhausted`).
 */
export const GrpcStatus = {
  OK: 0,
  CANCELLED: 1,
  UNKNOWN: 2,
  INVALID_ARGUMENT: 3,
  DEADLINE_EXCEEDED: 4,
  NOT_FOUND: 5,
  ALREADY_EXISTS: 6,
  PERMISSION_DENIED: 7,
  RESOURCE_EXHAUSTED: 8,
  FAILED_PRECONDITION: 9,
  ABORTED: 10,
  OUT_OF_RANGE: 11,
  UNIMPLEMENTED: 12,
  INTERNAL: 13,
  UNAVAILABLE: 14,
  DATA_LOSS: 15,
  UNAUTHENTICATED: 16,
} as const;

export type GrpcStatusCode = (typeof GrpcStatus)[keyof typeof GrpcStatus];

const NAMES: readonly string[] = Object.keys(GrpcStatus);

/** `RESOURCE_EXHAUSTED` for 8; `CODE_99` for a code outside the table. */
export function grpcStatusName(code: number): string {
  return NAMES[code] ?? `CODE_${code}`;
}

/** Config spelling: `resource-exhausted` for 8. */
export function grpcStatusConfigName(code: GrpcStatusCode): string {
  return grpcStatusName(code).toLowerCase().replaceAll('_', '-');
}

/** Config spelling to code; undefined for an unknown name. */
export function parseGrpcStatusConfigName(name: string): GrpcStatusCode | undefined {
  const index = NAMES.indexOf(name.toUpperCase().replaceAll('-', '_'));
  return index < 0 ? undefined : (index as GrpcStatusCode);
}

/**
 * Parses a `grpc-status` header value: decimal digits without leading zeros
 * (PROTOCOL-HTTP2.md). Returns undefined when the value is malformed.
 */
export function parseGrpcStatusHeader(value: string): number | undefined {
  if (!/^(0|[1-9][0-9]{0,9})$/.test(value)) return undefined;
  return Number(value);
}
