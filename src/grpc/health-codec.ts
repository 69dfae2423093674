/**
 * The two messages of `grpc.health.v1.Health`, encoded by hand (protobuf
 * wire format: varints and length-delimited fields), so the proxy answers
 * health calls without a protobuf runtime:
 *
 *   message HealthCheckRequest  { string service = 1; }
 *   message HealthCheckResponse { ServingStatus status = 1; }
 *
 * Plus the gRPC length prefix around one message (PROTOCOL-HTTP2.md).
 */

export const HEALTH_SERVICE = 'grpc.health.v1.Health';
export const HEALTH_CHECK_PATH = `/${HEALTH_SERVICE}/Check`;
export const HEALTH_WATCH_PATH = `/${HEALTH_SERVICE}/Watch`;

export const ServingStatus = {
  UNKNOWN: 0,
  SERVING: 1,
  NOT_SERVING: 2,
  /** Used only by Watch. */
  SERVICE_UNKNOWN: 3,
} as const;

export type ServingStatusCode = (typeof ServingStatus)[keyof typeof ServingStatus];

const WIRE_VARINT = 0;
const WIRE_FIXED64 = 1;
const WIRE_LENGTH_DELIMITED = 2;
const WIRE_FIXED32 = 5;

/** Reads protobuf fields from a buffer; every read checks the bounds. */
class Reader {
  #offset = 0;
  constructor(readonly bytes: Buffer) {}

  get done(): boolean {
    return this.#offset >= this.bytes.length;
  }

  /** A varint as a number; rejects one longer than 10 bytes or past the end. */
  varint(): number {
    let value = 0;
    let scale = 1;
    for (let i = 0; i < 10; i++) {
      const byte = this.bytes[this.#offset++];
      if (byte === undefined) throw new Error('truncated varint');
      value += (byte & 0x7f) * scale;
      if ((byte & 0x80) === 0) return value;
      scale *= 128;
    }
    throw new Error('varint longer than 10 bytes');
  }

  take(length: number): Buffer {
    const end = this.#offset + length;
    if (end > this.bytes.length) throw new Error('field runs past the end of the message');
    const slice = this.bytes.subarray(this.#offset, end);
    this.#offset = end;
    return slice;
  }

  skip(wireType: number): void {
    switch (wireType) {
      case WIRE_VARINT:
        this.varint();
        return;
      case WIRE_FIXED64:
        this.take(8);
        return;
      case WIRE_LENGTH_DELIMITED:
        this.take(this.varint());
        return;
      case WIRE_FIXED32:
        this.take(4);
        return;
      default:
        throw new Error(`unsupported wire type ${wireType}`);
    }
  }
}

function varint(value: number): Buffer {
  const bytes: number[] = [];
  let rest = value;
  while (rest >= 0x80) {
    bytes.push((rest % 128) | 0x80);
    rest = Math.floor(rest / 128);
  }
  bytes.push(rest);
  return Buffer.from(bytes);
}

/** Decodes a HealthCheckRequest's `service`; unknown fields are skipped. Throws on bad bytes. */
export function decodeHealthCheckRequest(bytes: Buffer): { service: string } {
  const reader = new Reader(bytes);
  let service = '';
  while (!reader.done) {
    const key = reader.varint();
    const field = Math.floor(key / 8);
    const wireType = key % 8;
    if (field === 1 && wireType === WIRE_LENGTH_DELIMITED) {
      // Last one wins, as protobuf parsers do for a repeated scalar field.
      service = reader.take(reader.varint()).toString('utf8');
    } else if (field === 0) {
      throw new Error('field number 0');
    } else {
      reader.skip(wireType);
    }
  }
  return { service };
}

export function encodeHealthCheckRequest(service: string): Buffer {
  if (service === '') return Buffer.alloc(0);
  const value = Buffer.from(service, 'utf8');
  return Buffer.concat([Buffer.from([0x0a]), varint(value.length), value]);
}

/** A HealthCheckResponse; status 0 (UNKNOWN) is the proto3 default and is left out. */
export function encodeHealthCheckResponse(status: ServingStatusCode): Buffer {
  if (status === ServingStatus.UNKNOWN) return Buffer.alloc(0);
  return Buffer.concat([Buffer.from([0x08]), varint(status)]);
}

export function decodeHealthCheckResponse(bytes: Buffer): { status: number } {
  const reader = new Reader(bytes);
  let status = 0;
  while (!reader.done) {
    const key = reader.varint();
    const field = Math.floor(key / 8);
    const wireType = key % 8;
    if (field === 1 && wireType === WIRE_VARINT) status = reader.varint();
    else if (field === 0) throw new Error('field number 0');
    else reader.skip(wireType);
  }
  return { status };
}

/** One gRPC message: flag byte 0 (uncompressed), 4-byte big-endian length, the bytes. */
export function frameGrpcMessage(message: Buffer): Buffer {
  const prefix = Buffer.alloc(5);
  prefix.writeUInt32BE(message.length, 1);
  return Buffer.concat([prefix, message]);
}

export type UnframeResult =
  { readonly ok: true; readonly message: Buffer } | { readonly ok: false; readonly reason: string };

/** The single uncompressed message of a unary request body. */
export function unframeSingleMessage(body: Buffer): UnframeResult {
  if (body.length < 5) return { ok: false, reason: 'request has no complete message' };
  const flag = body[0];
  if (flag !== 0) return { ok: false, reason: 'compressed health requests are not supported' };
  const length = body.readUInt32BE(1);
  if (body.length !== 5 + length) {
    return {
      ok: false,
      reason: body.length < 5 + length ? 'truncated message' : 'more than one request message',
    };
  }
  return { ok: true, message: body.subarray(5) };
}
