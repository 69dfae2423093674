/**
 * Per-connection output (RFC 9113 §4.1 framing): every frame of one
 * event-loop turn leaves in one socket write.
 *
 * Frame headers, control frames, header blocks and small DATA payloads are
 * copied into a slab (a 64 KiB buffer used from front to back, never
 * rewritten: the socket may still hold earlier parts of it); a large DATA
 * payload is queued as the caller's slice, so body bytes are not copied. The
 * first frame queued schedules a flush with setImmediate; the flush first asks
 * the owner to move DATA from stream queues (`pump`), then writes one buffer,
 * or a few under cork/uncork. When socket.write returns false, `blocked` is
 * set and the owner's `onDrain` runs on 'drain': DATA waits meanwhile,
 * control frames do not.
 */
import type * as net from 'node:net';
import {
  CLIENT_PREFACE,
  FLAG_ACK,
  FLAG_END_HEADERS,
  FRAME_CONTINUATION,
  FRAME_DATA,
  FRAME_GOAWAY,
  FRAME_HEADER_SIZE,
  FRAME_HEADERS,
  FRAME_PING,
  FRAME_RST_STREAM,
  FRAME_SETTINGS,
  FRAME_WINDOW_UPDATE,
} from './constants.js';

export interface WriterOwner {
  /**
   * Called at the start of each flush: queue DATA the windows allow. True when
   * it stopped at its per-flush budget with more to send (another flush follows).
   */
  pump(): boolean;
  /** Called at the end of each flush: deferred stream callbacks run here, outside the pump. */
  afterFlush(): void;
  /** The socket drained after a write returned false. */
  onDrain(): void;
}

const SLAB_SIZE = 64 * 1024;
const EMPTY = Buffer.alloc(0);
/** DATA payloads up to this size are copied into the slab; larger ones go as slices. */
const COPY_MAX = 4096;
/** Payloads up to this size are copied byte by byte. */
const SMALL_COPY = 64;

export class FrameWriter {
  /** socket.write returned false and 'drain' has not come yet. */
  blocked = false;
  /** Bytes queued since the last flush (slab and slices). */
  queued = 0;

  private readonly socket: net.Socket;
  private readonly owner: WriterOwner;
  private slab = Buffer.allocUnsafe(SLAB_SIZE);
  /** Start of the unflushed part of the slab. */
  private start = 0;
  private pos = 0;
  /** Finished segments (slab parts and DATA slices) waiting for the flush. */
  private readonly out: Buffer[] = [];
  private scheduled = false;
  private flushing = false;
  private closed = false;
  /** end() was called: the socket ends after the next flush. */
  private ending = false;
  private readonly flushCallback = (): void => {
    if (this.scheduled) this.flush();
  };

  constructor(socket: net.Socket, owner: WriterOwner) {
    this.socket = socket;
    this.owner = owner;
    socket.on('drain', () => {
      this.blocked = false;
      this.owner.onDrain();
    });
  }

  /** Makes sure a flush runs this event-loop turn. */
  schedule(): void {
    if (this.scheduled || this.flushing || this.closed) return;
    this.scheduled = true;
    setImmediate(this.flushCallback);
  }

  /** Writes everything queued now (pumping DATA first). */
  flush(): void {
    this.scheduled = false;
    if (this.closed) return;
    this.flushing = true;
    const more = this.owner.pump();
    this.flushing = false;
    const ok = this.writeOut();
    this.owner.afterFlush();
    if (this.isClosed()) return;
    if (this.ending) {
      this.writeOut();
      this.closed = true;
      // Nothing is left to read either (no stream is open): once our last
      // bytes are out, close. A peer that keeps its half open (node:http2
      // does after GOAWAY) must not keep the connection alive.
      const socket = this.socket;
      socket.end(() => socket.destroy());
      return;
    }
    if (!ok) this.blocked = true;
    else if (more) this.schedule();
  }

  /** Ends the socket after one more flush (frames queued until then still go). */
  end(): void {
    if (this.closed) return;
    this.ending = true;
    this.schedule();
  }

  /** No more output (the socket is closing); queued frames are dropped. */
  close(): void {
    this.closed = true;
    this.out.length = 0;
  }

  /** The client connection preface (§3.4), before our first SETTINGS. */
  preface(): void {
    this.reserve(CLIENT_PREFACE.length);
    CLIENT_PREFACE.copy(this.slab, this.pos);
    this.pos += CLIENT_PREFACE.length;
    this.queued += CLIENT_PREFACE.length;
    this.schedule();
  }

  settings(ack: boolean, pairs: readonly number[]): void {
    const length = ack ? 0 : (pairs.length / 2) * 6;
    const b = this.frame(length, FRAME_SETTINGS, ack ? FLAG_ACK : 0, 0);
    let p = this.pos;
    if (!ack) {
      for (let i = 0; i < pairs.length; i += 2) {
        b.writeUInt16BE(pairs[i] ?? 0, p);
        b.writeUInt32BE(pairs[i + 1] ?? 0, p + 2);
        p += 6;
      }
    }
    this.pos = p;
  }

  ping(ack: boolean, payload: Uint8Array): void {
    const b = this.frame(8, FRAME_PING, ack ? FLAG_ACK : 0, 0);
    b.set(payload.subarray(0, 8), this.pos);
    this.pos += 8;
  }

  windowUpdate(streamId: number, increment: number): void {
    const b = this.frame(4, FRAME_WINDOW_UPDATE, 0, streamId);
    b.writeUInt32BE(increment, this.pos);
    this.pos += 4;
  }

  rstStream(streamId: number, code: number): void {
    const b = this.frame(4, FRAME_RST_STREAM, 0, streamId);
    b.writeUInt32BE(code >>> 0, this.pos);
    this.pos += 4;
  }

  goaway(lastStreamId: number, code: number, debugData: Uint8Array | undefined): void {
    const debugLength = debugData === undefined ? 0 : debugData.length;
    const b = this.frame(8 + debugLength, FRAME_GOAWAY, 0, 0);
    b.writeUInt32BE(lastStreamId, this.pos);
    b.writeUInt32BE(code >>> 0, this.pos + 4);
    if (debugData !== undefined) b.set(debugData, this.pos + 8);
    this.pos += 8 + debugLength;
  }

  /** HEADERS (+ CONTINUATIONs when `block` exceeds `maxFrameSize`), contiguous as §6.10 requires. */
  headers(
    streamId: number,
    flags: number,
    block: Buffer,
    from: number,
    to: number,
    maxFrameSize: number,
  ): void {
    let length = to - from;
    if (length <= maxFrameSize) {
      const b = this.frame(length, FRAME_HEADERS, flags | FLAG_END_HEADERS, streamId);
      copyBytes(block, from, to, b, this.pos);
      this.pos += length;
      return;
    }
    let off = from;
    let type = FRAME_HEADERS;
    while (off < to) {
      length = Math.min(maxFrameSize, to - off);
      const last = off + length === to;
      const b = this.frame(length, type, last ? flags | FLAG_END_HEADERS : flags, streamId);
      copyBytes(block, off, off + length, b, this.pos);
      this.pos += length;
      off += length;
      type = FRAME_CONTINUATION;
      flags = 0;
    }
  }

  /** One DATA frame carrying `chunk[from, to)`. */
  data(streamId: number, flags: number, chunk: Buffer, from: number, to: number): void {
    const length = to - from;
    const b = this.frame(length, FRAME_DATA, flags, streamId);
    if (length <= COPY_MAX) {
      let p = this.pos;
      if (length <= SMALL_COPY) {
        // A byte loop beats Buffer#copy's call overhead for a few bytes (gRPC unary messages).
        for (let i = from; i < to; i++) b[p++] = chunk[i] ?? 0;
      } else {
        p += chunk.copy(b, p, from, to);
      }
      this.pos = p;
      return;
    }
    this.cut();
    this.out.push(from === 0 && to === chunk.length ? chunk : chunk.subarray(from, to));
  }

  /** Writes a frame header into the slab, reserving room for a copied payload; returns the slab. */
  private frame(length: number, type: number, flags: number, streamId: number): Buffer {
    this.reserve(FRAME_HEADER_SIZE + (type === FRAME_DATA && length > COPY_MAX ? 0 : length));
    const b = this.slab;
    let p = this.pos;
    b[p++] = length >>> 16;
    b[p++] = (length >>> 8) & 0xff;
    b[p++] = length & 0xff;
    b[p++] = type;
    b[p++] = flags;
    b.writeUInt32BE(streamId, p);
    this.pos = p + 4;
    this.queued += FRAME_HEADER_SIZE + length;
    this.schedule();
    return b;
  }

  /** Makes room for `need` bytes in the slab (a fresh slab when the current one is full). */
  private reserve(need: number): void {
    if (this.slab.length - this.pos >= need) return;
    this.cut();
    this.slab = Buffer.allocUnsafe(Math.max(SLAB_SIZE, need));
    this.start = 0;
    this.pos = 0;
  }

  /** Writes the queued segments to the socket; false when socket.write asked us to wait. */
  private writeOut(): boolean {
    this.cut();
    const out = this.out;
    const n = out.length;
    if (n === 0) return true;
    const socket = this.socket;
    let ok = true;
    if (socket.destroyed) {
      // nothing to write to
    } else if (n === 1) {
      ok = socket.write(out[0] ?? EMPTY);
    } else {
      socket.cork();
      for (let i = 0; i < n; i++) ok = socket.write(out[i] ?? EMPTY);
      socket.uncork();
    }
    out.length = 0;
    this.queued = 0;
    return ok;
  }

  /** Not narrowed away by the compiler: handlers called from a flush may close the writer. */
  private isClosed(): boolean {
    return this.closed;
  }

  /** Closes the current slab segment into `out`. */
  private cut(): void {
    if (this.pos > this.start) {
      this.out.push(this.slab.subarray(this.start, this.pos));
      this.start = this.pos;
    }
  }
}

/**
 * `source[from, to)` into `target` at `at`. A header block is a few dozen
 * bytes: a loop, where Buffer#copy of a range would make a view first.
 */
function copyBytes(source: Buffer, from: number, to: number, target: Buffer, at: number): void {
  if (to - from > 64) {
    source.copy(target, at, from, to);
    return;
  }
  for (let i = from; i < to; i++) target[at++] = source[i] as number;
}
