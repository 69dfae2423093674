/**
 * Incremental HTTP/2 frame parser (RFC 9113 §4.1): socket chunks in, whole
 * frames out through one callback.
 *
 * A frame that lies within one chunk is handed over as a range of that
 * chunk (no copy: DATA payloads reach the stream handler as slices of what
 * the socket read). Only a frame split across chunks is assembled, into one
 * buffer of its exact size, so a large frame costs one copy whatever the
 * chunking. The server role first checks the 24-byte client preface (§3.4).
 *
 * A frame longer than the SETTINGS_MAX_FRAME_SIZE we advertised is a
 * connection error FRAME_SIZE_ERROR (§4.2), thrown before its payload is
 * buffered.
 */
import {
  CLIENT_PREFACE,
  FRAME_HEADER_SIZE,
  FRAME_SIZE_ERROR,
  PROTOCOL_ERROR,
} from './constants.js';
import { H2ConnectionError } from './h2-error.js';

export interface FrameSink {
  /**
   * One frame, whose payload is `buffer[start, end)`: a range of the socket
   * read, so the sink makes a view (a Buffer object) only of the payloads it
   * keeps (DATA) and reads the rest in place.
   */
  onFrame(
    type: number,
    flags: number,
    streamId: number,
    buffer: Buffer,
    start: number,
    end: number,
  ): void;
}

export class FrameReader {
  /** The largest payload accepted: our advertised SETTINGS_MAX_FRAME_SIZE. */
  maxFrameSize: number;
  /** Set to stop parsing (the connection failed); later chunks are dropped. */
  stopped = false;

  private readonly sink: FrameSink;
  /** Preface bytes still to check (server role), 0 once checked. */
  private prefaceLeft: number;
  /** A partial frame header (fewer than 9 bytes seen). */
  private readonly header = Buffer.allocUnsafe(FRAME_HEADER_SIZE);
  private headerFilled = 0;
  /** The payload being assembled across chunks, or undefined. */
  private body: Buffer | undefined;
  private bodyFilled = 0;
  private bodyType = 0;
  private bodyFlags = 0;
  private bodyStream = 0;

  constructor(sink: FrameSink, maxFrameSize: number, expectPreface: boolean) {
    this.sink = sink;
    this.maxFrameSize = maxFrameSize;
    this.prefaceLeft = expectPreface ? CLIENT_PREFACE.length : 0;
  }

  /** Parses `chunk`, delivering every frame it completes. Throws H2ConnectionError. */
  push(chunk: Buffer): void {
    let off = 0;
    const end = chunk.length;
    if (this.prefaceLeft > 0) {
      off = this.checkPreface(chunk);
      if (off === end) return;
    }
    if (this.body !== undefined) {
      off = this.fillBody(chunk, off);
      if (off === end || this.stopped) return;
    } else if (this.headerFilled > 0) {
      const take = Math.min(FRAME_HEADER_SIZE - this.headerFilled, end - off);
      chunk.copy(this.header, this.headerFilled, off, off + take);
      this.headerFilled += take;
      off += take;
      if (this.headerFilled < FRAME_HEADER_SIZE) return;
      this.headerFilled = 0;
      const h = this.header;
      const length = h.readUIntBE(0, 3);
      this.startBody(length, h.readUInt8(3), h.readUInt8(4), h.readUInt32BE(5) & 0x7fffffff);
      off = this.fillBody(chunk, off);
      if (off === end || this.stopped) return;
    }
    const sink = this.sink;
    while (!this.stopped) {
      const left = end - off;
      if (left < FRAME_HEADER_SIZE) {
        if (left > 0) {
          chunk.copy(this.header, 0, off, end);
          this.headerFilled = left;
        }
        return;
      }
      const length =
        ((chunk[off] ?? 0) << 16) | ((chunk[off + 1] ?? 0) << 8) | (chunk[off + 2] ?? 0);
      const type = chunk[off + 3] ?? 0;
      const flags = chunk[off + 4] ?? 0;
      const streamId = chunk.readUInt32BE(off + 5) & 0x7fffffff;
      const start = off + FRAME_HEADER_SIZE;
      if (start + length <= end) {
        if (length > this.maxFrameSize) this.tooLarge(length);
        off = start + length;
        sink.onFrame(type, flags, streamId, chunk, start, off);
        continue;
      }
      this.startBody(length, type, flags, streamId);
      this.fillBody(chunk, start);
      return;
    }
  }

  private startBody(length: number, type: number, flags: number, streamId: number): void {
    if (length > this.maxFrameSize) this.tooLarge(length);
    this.body = Buffer.allocUnsafe(length);
    this.bodyFilled = 0;
    this.bodyType = type;
    this.bodyFlags = flags;
    this.bodyStream = streamId;
  }

  /** Copies what `chunk` holds of the pending payload; delivers it when complete. */
  private fillBody(chunk: Buffer, off: number): number {
    const body = this.body;
    if (body === undefined) return off;
    const take = Math.min(body.length - this.bodyFilled, chunk.length - off);
    chunk.copy(body, this.bodyFilled, off, off + take);
    this.bodyFilled += take;
    off += take;
    if (this.bodyFilled === body.length) {
      this.body = undefined;
      this.sink.onFrame(this.bodyType, this.bodyFlags, this.bodyStream, body, 0, body.length);
    }
    return off;
  }

  private checkPreface(chunk: Buffer): number {
    const done = CLIENT_PREFACE.length - this.prefaceLeft;
    const take = Math.min(this.prefaceLeft, chunk.length);
    if (CLIENT_PREFACE.compare(chunk, 0, take, done, done + take) !== 0) {
      this.stopped = true;
      throw new H2ConnectionError(PROTOCOL_ERROR, 'invalid connection preface');
    }
    this.prefaceLeft -= take;
    return take;
  }

  private tooLarge(length: number): never {
    this.stopped = true;
    throw new H2ConnectionError(
      FRAME_SIZE_ERROR,
      `frame of ${length} bytes exceeds SETTINGS_MAX_FRAME_SIZE ${this.maxFrameSize}`,
    );
  }
}
