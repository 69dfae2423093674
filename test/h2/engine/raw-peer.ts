/**
 * A hand-driven HTTP/2 client for protection tests: writes whatever frames a
 * test builds (valid or not) and records the frames the engine sends back,
 * parsed with the engine's own FrameReader.
 */
import { once } from 'node:events';
import * as net from 'node:net';
import { CLIENT_PREFACE, FRAME_GOAWAY, FRAME_RST_STREAM } from '../../../src/h2/constants.js';
import { FrameReader } from '../../../src/h2/frame-reader.js';
import { HpackEncoder } from '../../../src/h2/hpack/hpack-encoder.js';

export interface Frame {
  type: number;
  flags: number;
  streamId: number;
  payload: Buffer;
}

export function frame(
  type: number,
  flags: number,
  streamId: number,
  payload: Buffer = Buffer.alloc(0),
): Buffer {
  const header = Buffer.alloc(9);
  header.writeUIntBE(payload.length, 0, 3);
  header[3] = type;
  header[4] = flags;
  header.writeUInt32BE(streamId, 5);
  return Buffer.concat([header, payload]);
}

export function u32(...values: number[]): Buffer {
  const b: Buffer = Buffer.alloc(values.length * 4);
  values.forEach((v, i) => b.writeUInt32BE(v >>> 0, i * 4));
  return b;
}

export const GET_REQUEST = [':method', 'POST', ':scheme', 'http', ':path', '/', ':authority', 'x'];

export class RawPeer {
  readonly socket: net.Socket;
  readonly frames: Frame[] = [];
  readonly encoder = new HpackEncoder();
  closed = false;
  private waiters: (() => void)[] = [];

  private constructor(socket: net.Socket) {
    this.socket = socket;
    const reader = new FrameReader(
      {
        onFrame: (type, flags, streamId, buffer, start, end) => {
          const payload = Buffer.from(buffer.subarray(start, end));
          this.frames.push({ type, flags, streamId, payload });
          this.wake();
        },
      },
      1 << 24,
      false,
    );
    socket.on('data', (chunk: Buffer) => reader.push(chunk));
    socket.on('error', () => undefined);
    socket.on('close', () => {
      this.closed = true;
      this.wake();
    });
  }

  /** Connects and sends the preface and an empty SETTINGS (plus `settings` pairs). */
  static async connect(port: number, settings: number[] = []): Promise<RawPeer> {
    const socket = net.connect(port, '127.0.0.1');
    await once(socket, 'connect');
    const peer = new RawPeer(socket);
    const payload = Buffer.alloc((settings.length / 2) * 6);
    for (let i = 0; i < settings.length; i += 2) {
      payload.writeUInt16BE(settings[i] ?? 0, i * 3);
      payload.writeUInt32BE(settings[i + 1] ?? 0, i * 3 + 2);
    }
    peer.send(Buffer.concat([CLIENT_PREFACE, frame(0x4, 0, 0, payload), frame(0x4, 1, 0)]));
    return peer;
  }

  send(...buffers: Buffer[]): void {
    this.socket.write(Buffer.concat(buffers));
  }

  block(fields: string[]): Buffer {
    return this.encoder.encode(fields);
  }

  /** Resolves with the first frame (already received or coming) that matches, or undefined at close. */
  async waitFor(match: (f: Frame) => boolean): Promise<Frame | undefined> {
    for (;;) {
      const found = this.frames.find(match);
      if (found !== undefined) return found;
      if (this.closed) return undefined;
      await new Promise<void>((resolve) => this.waiters.push(resolve));
    }
  }

  /** The GOAWAY error code the engine sent (waits for it), or undefined if it closed without one. */
  async goawayCode(): Promise<number | undefined> {
    const f = await this.waitFor((x) => x.type === FRAME_GOAWAY);
    return f?.payload.readUInt32BE(4);
  }

  /** The RST_STREAM code for `streamId` (waits for it). */
  async rstCode(streamId: number): Promise<number | undefined> {
    const f = await this.waitFor((x) => x.type === FRAME_RST_STREAM && x.streamId === streamId);
    return f?.payload.readUInt32BE(0);
  }

  close(): void {
    this.socket.destroy();
  }

  private wake(): void {
    const waiters = this.waiters;
    this.waiters = [];
    for (const w of waiters) w();
  }
}
