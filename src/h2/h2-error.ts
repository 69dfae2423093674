/**
 * The two kinds of HTTP/2 error (RFC 9113 §5.4): a connection error ends the
 * connection with GOAWAY, a stream error ends one stream with RST_STREAM.
 * Each carries its RFC 9113 §7 error code. Frame handling throws them; the
 * connection catches them per frame and answers with the right frame.
 */
import { errorCodeName } from './constants.js';

export class H2ConnectionError extends Error {
  override readonly name = 'H2ConnectionError';
  readonly code: number;

  constructor(code: number, message: string) {
    super(`${errorCodeName(code)}: ${message}`);
    this.code = code;
  }
}

export class H2StreamError extends Error {
  override readonly name = 'H2StreamError';
  readonly code: number;
  readonly streamId: number;

  constructor(code: number, streamId: number, message: string) {
    super(`stream ${streamId}: ${errorCodeName(code)}: ${message}`);
    this.code = code;
    this.streamId = streamId;
  }
}
