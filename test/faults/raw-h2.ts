/**
 * HTTP/2 written by hand, for peers that node:http2 will not play: a backend
 * that floods PINGs, a client that opens more streams than the proxy's
 * SETTINGS_MAX_CONCURRENT_STREAMS allows. Frames per RFC 9113 §4.1; header
 * blocks use HPACK literals without indexing (RFC 7541 §6.2.2), so no
 * dynamic table is needed on either side.
 */
import type net from 'node:net';
import type { TestContext } from '../helpers/context.js';
import { startTcpServer } from '../helpers/tcp-server.js';
export const PREFACE = Buffer.from('PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n', 'latin1');

export const DATA = 0x0;
export const HEADERS = 0x1;
export const RST_STREAM = 0x3;
export const SETTINGS = 0x4;
export const PING = 0x6;
export const GOAWAY = 0x7;

export const END_STREAM = 0x1;
export const ACK = 0x1;
export const END_HEADERS = 0x4;

export interface Frame {
  readonly type: number;
  readonly flags: number;
  readonly streamId: number;
  readonly payload: Buffer;
}

export function frame(
  type: number,
  flags: number,
  streamId: number,
  payload: Buffer = Buffer.alloc(0),
): Buffer {
  const head = Buffer.alloc(9);
  head.writeUIntBE(payload.length, 0, 3);
  head.writeUInt8(type, 3);
  head.writeUInt8(flags, 4);
  head.writeUInt32BE(streamId & 0x7fffffff, 5);
  return Buffer.concat([head, payload]);
}

/** An HPACK integer with an `prefixBits`-bit prefix, first byte ORed with `mask`. */
function hpackInt(value: number, prefixBits: number, mask: number): Buffer {
  const max = (1 << prefixBits) - 1;
  if (value < max) return Buffer.from([mask | value]);
  const bytes = [mask | max];
  let rest = value - max;
  while (rest >= 128) {
    bytes.push((rest % 128) + 128);
    rest = Math.floor(rest / 128);
  }
  bytes.push(rest);
  return Buffer.from(bytes);
}

function hpackString(text: string): Buffer {
  const bytes = Buffer.from(text, 'latin1');
  return Buffer.concat([hpackInt(bytes.length, 7, 0), bytes]);
}

/** A header block of literal fields without indexing, new names. */
export function headerBlock(fields: readonly (readonly [string, string])[]): Buffer {
  return Buffer.concat(
    fields.flatMap(([name, value]) => [Buffer.from([0]), hpackString(name), hpackString(value)]),
  );
}

/** Splits a byte stream into frames (after any preface the caller skipped). */
export class FrameReader {
  #buffered = Buffer.alloc(0);

  push(chunk: Buffer): Frame[] {
    this.#buffered = Buffer.concat([this.#buffered, chunk]);
    const frames: Frame[] = [];
    while (this.#buffered.length >= 9) {
      const length = this.#buffered.readUIntBE(0, 3);
      if (this.#buffered.length < 9 + length) break;
      frames.push({
        type: this.#buffered.readUInt8(3),
        flags: this.#buffered.readUInt8(4),
        streamId: this.#buffered.readUInt32BE(5) & 0x7fffffff,
        payload: this.#buffered.subarray(9, 9 + length),
      });
      this.#buffered = this.#buffered.subarray(9 + length);
    }
    return frames;
  }
}

export const RESPONSE_HEADERS = headerBlock([
  [':status', '200'],
  ['content-type', 'application/grpc'],
]);
export const OK_TRAILERS = headerBlock([['grpc-status', '0']]);

export function rstStream(streamId: number, code: number): Buffer {
  const payload = Buffer.alloc(4);
  payload.writeUInt32BE(code);
  return frame(RST_STREAM, 0, streamId, payload);
}

export interface FrameConnection {
  /** 1 for the first connection accepted. */
  readonly n: number;
  readonly socket: net.Socket;
  /** PING ACKs received on it. */
  pingAcks: number;
  readonly closed: Promise<void>;
}

export interface FrameBackend {
  readonly address: string;
  readonly connections: FrameConnection[];
  /** Stream ids of requests whose END_STREAM arrived, in order (all connections). */
  readonly requests: number[];
}

/**
 * A backend in hand-written HTTP/2: sends an empty SETTINGS, acknowledges
 * the client's SETTINGS and PINGs, and calls `onRequest` once a request's
 * END_STREAM arrived; `onRequest` writes the whole reply as raw frames.
 * It grants no extra flow-control window, so replies must stay under 64 KiB.
 */
export async function startFrameBackend(
  t: TestContext,
  onRequest: (connection: FrameConnection, streamId: number) => void,
): Promise<FrameBackend> {
  const connections: FrameConnection[] = [];
  const requests: number[] = [];
  const address = await startTcpServer(t, (socket) => {
    const closed = new Promise<void>((resolve) => socket.once('close', () => resolve()));
    const connection: FrameConnection = { n: connections.length + 1, socket, pingAcks: 0, closed };
    connections.push(connection);
    socket.write(frame(SETTINGS, 0, 0));
    const reader = new FrameReader();
    let prefaceLeft = PREFACE.length;
    socket.on('data', (data: Buffer) => {
      let chunk = data;
      if (prefaceLeft > 0) {
        const skip = Math.min(prefaceLeft, chunk.length);
        prefaceLeft -= skip;
        chunk = chunk.subarray(skip);
      }
      for (const f of reader.push(chunk)) {
        if (f.type === SETTINGS && (f.flags & ACK) === 0) socket.write(frame(SETTINGS, ACK, 0));
        if (f.type === PING && (f.flags & ACK) !== 0) connection.pingAcks++;
        if (f.type === PING && (f.flags & ACK) === 0) socket.write(frame(PING, ACK, 0, f.payload));
        if ((f.type === HEADERS || f.type === DATA) && (f.flags & END_STREAM) !== 0) {
          requests.push(f.streamId);
          onRequest(connection, f.streamId);
        }
      }
    });
  });
  return {
    address,
    connections,
    requests,
  };
}
