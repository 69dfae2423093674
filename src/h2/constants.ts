/**
 * RFC 9113 numbers: frame types, flags, error codes, setting identifiers, the
 * client connection preface, the protocol's initial setting values and the
 * values this engine advertises when the caller does not say.
 *
 * Plain numeric constants (not TypeScript enums) so the hot path compares
 * small integers and nothing is looked up at run time.
 */

/** §3.4: the client connection preface, sent before the first SETTINGS. */
export const CLIENT_PREFACE = Buffer.from('PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n', 'latin1');

/** §4.1: every frame starts with a 9-byte header. */
export const FRAME_HEADER_SIZE = 9;

// §6: frame types.
export const FRAME_DATA = 0x0;
export const FRAME_HEADERS = 0x1;
export const FRAME_PRIORITY = 0x2;
export const FRAME_RST_STREAM = 0x3;
export const FRAME_SETTINGS = 0x4;
export const FRAME_PUSH_PROMISE = 0x5;
export const FRAME_PING = 0x6;
export const FRAME_GOAWAY = 0x7;
export const FRAME_WINDOW_UPDATE = 0x8;
export const FRAME_CONTINUATION = 0x9;

// §6: flags (the same bit means different things on different frame types).
export const FLAG_END_STREAM = 0x1;
export const FLAG_ACK = 0x1;
export const FLAG_END_HEADERS = 0x4;
export const FLAG_PADDED = 0x8;
export const FLAG_PRIORITY = 0x20;

// §7: error codes.
export const NO_ERROR = 0x0;
export const PROTOCOL_ERROR = 0x1;
export const INTERNAL_ERROR = 0x2;
export const FLOW_CONTROL_ERROR = 0x3;
export const SETTINGS_TIMEOUT = 0x4;
export const STREAM_CLOSED = 0x5;
export const FRAME_SIZE_ERROR = 0x6;
export const REFUSED_STREAM = 0x7;
export const CANCEL = 0x8;
export const COMPRESSION_ERROR = 0x9;
export const CONNECT_ERROR = 0xa;
export const ENHANCE_YOUR_CALM = 0xb;
export const INADEQUATE_SECURITY = 0xc;
export const HTTP_1_1_REQUIRED = 0xd;

const ERROR_NAMES = [
  'NO_ERROR',
  'PROTOCOL_ERROR',
  'INTERNAL_ERROR',
  'FLOW_CONTROL_ERROR',
  'SETTINGS_TIMEOUT',
  'STREAM_CLOSED',
  'FRAME_SIZE_ERROR',
  'REFUSED_STREAM',
  'CANCEL',
  'COMPRESSION_ERROR',
  'CONNECT_ERROR',
  'ENHANCE_YOUR_CALM',
  'INADEQUATE_SECURITY',
  'HTTP_1_1_REQUIRED',
];

/** RFC 9113's name of an error code (`PROTOCOL_ERROR`), or undefined for a code it does not name. */
export function knownErrorCodeName(code: number): string | undefined {
  return ERROR_NAMES[code];
}

/** `PROTOCOL_ERROR`, or `0x2a` for a code RFC 9113 does not name. */
export function errorCodeName(code: number): string {
  return knownErrorCodeName(code) ?? `0x${code.toString(16)}`;
}

// §6.5.2: setting identifiers.
export const SETTINGS_HEADER_TABLE_SIZE = 0x1;
export const SETTINGS_ENABLE_PUSH = 0x2;
export const SETTINGS_MAX_CONCURRENT_STREAMS = 0x3;
export const SETTINGS_INITIAL_WINDOW_SIZE = 0x4;
export const SETTINGS_MAX_FRAME_SIZE = 0x5;
export const SETTINGS_MAX_HEADER_LIST_SIZE = 0x6;

/** §6.9.1: the largest flow-control window. */
export const MAX_WINDOW = 0x7fffffff;
/** §6.5.2: initial window of every stream and of the connection. */
export const DEFAULT_WINDOW = 65535;
/** §6.5.2: the smallest (and initial) SETTINGS_MAX_FRAME_SIZE. */
export const MIN_MAX_FRAME_SIZE = 16384;
/** §6.5.2: the largest SETTINGS_MAX_FRAME_SIZE. */
export const MAX_MAX_FRAME_SIZE = 0xffffff;
/** §5.1.1: stream identifiers are 31 bits. */
export const MAX_STREAM_ID = 0x7fffffff;

/** The settings of RFC 9113 §6.5.2 as numbers (`Infinity` = unlimited). */
export interface H2Settings {
  headerTableSize: number;
  enablePush: boolean;
  maxConcurrentStreams: number;
  initialWindowSize: number;
  maxFrameSize: number;
  maxHeaderListSize: number;
}

/** What a peer's settings are before its SETTINGS frame arrives (§6.5.2 initial values). */
export const PROTOCOL_DEFAULT_SETTINGS: Readonly<H2Settings> = Object.freeze({
  headerTableSize: 4096,
  enablePush: true,
  maxConcurrentStreams: Infinity,
  initialWindowSize: DEFAULT_WINDOW,
  maxFrameSize: MIN_MAX_FRAME_SIZE,
  maxHeaderListSize: Infinity,
});

/** What this engine advertises for any setting `ConnectionOptions.settings` leaves out. */
export const LOCAL_DEFAULT_SETTINGS: Readonly<H2Settings> = Object.freeze({
  headerTableSize: 4096,
  enablePush: false,
  maxConcurrentStreams: 1000,
  initialWindowSize: DEFAULT_WINDOW,
  maxFrameSize: MIN_MAX_FRAME_SIZE,
  maxHeaderListSize: 65536,
});

/** H2Stream.write() returns false above this many buffered bytes. */
export const STREAM_HIGH_WATER_MARK = 64 * 1024;
/** onWritable fires when buffered bytes fall to this after write() returned false. */
export const STREAM_LOW_WATER_MARK = 16 * 1024;
