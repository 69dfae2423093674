/**
 * HpackError: a header block that cannot be decoded (RFC 7541 §2.3, §4,
 * §5, §6). Whoever reads the block answers it with a connection error of
 * type COMPRESSION_ERROR (RFC 9113 §4.3), because after a failed block the
 * two dynamic tables can no longer be trusted to agree.
 */

/** RFC 9113 §7 COMPRESSION_ERROR, the error code every HpackError maps to. */
export const COMPRESSION_ERROR_CODE = 0x9;

export class HpackError extends Error {
  /** The HTTP/2 error code the connection closes with. */
  readonly errorCode = COMPRESSION_ERROR_CODE;

  constructor(message: string) {
    super(message);
    this.name = 'HpackError';
  }
}
