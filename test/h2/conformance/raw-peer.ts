/**
 * A raw HTTP/2 client for the conformance suite: it writes whatever frames a
 * test asks for (any type, flags, stream id, padding, declared length) and
 * reads the server's frames off the socket, decoding the server's header
 * blocks with an independent HPACK decoder (hpack.ts).
 *
 * Every wait is bounded: `nextFrame` and the `expect*` helpers reject after
 * WAIT_MS (env H2_WAIT_MS) with what did arrive meanwhile, so a server that
 * stays silent fails the test instead of hanging it. Nothing here sleeps.
 *
 * Frames are kept in arrival order. `nextFrame(what, predicate)` takes the
 * first unread frame that matches and leaves the others unread, so a test can
 * wait for its RST_STREAM while the server's WINDOW_UPDATEs pile up unseen.
 * `failOn` makes a wait fail at once on a frame that rules the outcome out
 * (a GOAWAY while a stream error is expected).
 */
import net from 'node:net';
import type { Test } from 'tap';
import { type Fields, headerBlock, HpackDecoder } from './hpack.js';

export const PREFACE = Buffer.from('PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n', 'latin1');

export const FrameType = {
  DATA: 0x0,
  HEADERS: 0x1,
  PRIORITY: 0x2,
  RST_STREAM: 0x3,
  SETTINGS: 0x4,
  PUSH_PROMISE: 0x5,
  PING: 0x6,
  GOAWAY: 0x7,
  WINDOW_UPDATE: 0x8,
  CONTINUATION: 0x9,
} as const;

export const Flag = {
  END_STREAM: 0x1,
  ACK: 0x1,
  END_HEADERS: 0x4,
  PADDED: 0x8,
  PRIORITY: 0x20,
} as const;

export const ErrorCode = {
  NO_ERROR: 0x0,
  PROTOCOL_ERROR: 0x1,
  INTERNAL_ERROR: 0x2,
  FLOW_CONTROL_ERROR: 0x3,
  SETTINGS_TIMEOUT: 0x4,
  STREAM_CLOSED: 0x5,
  FRAME_SIZE_ERROR: 0x6,
  REFUSED_STREAM: 0x7,
  CANCEL: 0x8,
  COMPRESSION_ERROR: 0x9,
  CONNECT_ERROR: 0xa,
  ENHANCE_YOUR_CALM: 0xb,
  INADEQUATE_SECURITY: 0xc,
  HTTP_1_1_REQUIRED: 0xd,
} as const;

export const Setting = {
  HEADER_TABLE_SIZE: 0x1,
  ENABLE_PUSH: 0x2,
  MAX_CONCURRENT_STREAMS: 0x3,
  INITIAL_WINDOW_SIZE: 0x4,
  MAX_FRAME_SIZE: 0x5,
  MAX_HEADER_LIST_SIZE: 0x6,
} as const;

const TYPE_NAMES = new Map<number, string>(Object.entries(FrameType).map(([k, v]) => [v, k]));
const ERROR_NAMES = new Map<number, string>(Object.entries(ErrorCode).map(([k, v]) => [v, k]));

export function errorName(code: number): string {
  return ERROR_NAMES.get(code) ?? `0x${code.toString(16)}`;
}

/** Bounded wait for every expectation (ms). */
export const WAIT_MS = Number(process.env['H2_WAIT_MS'] ?? 5_000);

export interface Frame {
  readonly type: number;
  readonly flags: number;
  readonly streamId: number;
  readonly payload: Buffer;
  /** HEADERS (with its CONTINUATIONs joined): the decoded fields, or the decoding error. */
  readonly fields?: [string, string][];
  readonly decodeError?: string;
}

export function describe(frame: Frame): string {
  const type = TYPE_NAMES.get(frame.type) ?? `type 0x${frame.type.toString(16)}`;
  const head = `${type}(stream ${frame.streamId}, flags 0x${frame.flags.toString(16)}, ${frame.payload.length} B`;
  if (frame.type === FrameType.RST_STREAM && frame.payload.length === 4) {
    return `${head}, ${errorName(frame.payload.readUInt32BE(0))})`;
  }
  if (frame.type === FrameType.GOAWAY && frame.payload.length >= 8) {
    const debug = frame.payload.subarray(8).toString('latin1');
    return `${head}, ${errorName(frame.payload.readUInt32BE(4))}, last ${frame.payload.readUInt32BE(0) & 0x7fffffff}${debug ? `, "${debug}"` : ''})`;
  }
  if (frame.fields) return `${head}, ${frame.fields.map(([n, v]) => `${n}: ${v}`).join('; ')})`;
  return `${head})`;
}

/** A frame as bytes; `length` overrides the declared payload length (a lie for frame-size tests). */
export function encodeFrame(
  type: number,
  flags: number,
  streamId: number,
  payload: Buffer = Buffer.alloc(0),
  length = payload.length,
): Buffer {
  const head = Buffer.alloc(9);
  head.writeUIntBE(length, 0, 3);
  head.writeUInt8(type, 3);
  head.writeUInt8(flags, 4);
  head.writeUInt32BE(streamId >>> 0, 5);
  return Buffer.concat([head, payload]);
}

/** `payload` with a Pad Length byte in front and `padLength` zero bytes behind. */
export function padded(payload: Buffer, padLength: number): Buffer {
  return Buffer.concat([Buffer.from([padLength]), payload, Buffer.alloc(padLength)]);
}

export function settingsPayload(entries: readonly (readonly [number, number])[]): Buffer {
  const payload = Buffer.alloc(entries.length * 6);
  entries.forEach(([id, value], i) => {
    payload.writeUInt16BE(id, i * 6);
    payload.writeUInt32BE(value >>> 0, i * 6 + 2);
  });
  return payload;
}

export function u32(value: number): Buffer {
  const payload = Buffer.alloc(4);
  payload.writeUInt32BE(value >>> 0);
  return payload;
}

/** A gRPC-style echo request (the target answers any request the same way). */
export const REQUEST: Fields = [
  [':method', 'POST'],
  [':scheme', 'http'],
  [':path', '/conformance.Echo/Call'],
  [':authority', 'localhost'],
  ['content-type', 'application/grpc'],
  ['te', 'trailers'],
];

export interface Response {
  readonly headers: [string, string][];
  readonly body: Buffer;
  readonly trailers: [string, string][];
}

export interface OpenOptions {
  /** Our SETTINGS in the connection preface. */
  readonly settings?: readonly (readonly [number, number])[];
  /** Send the client preface and SETTINGS (default true). */
  readonly preface?: boolean;
  /** Wait for the server's SETTINGS and its ACK of ours (default true). */
  readonly handshake?: boolean;
  /** Acknowledge the server's SETTINGS and answer its PINGs (default true). */
  readonly autoAck?: boolean;
}

interface Waiter {
  readonly what: string;
  readonly predicate: (frame: Frame) => boolean;
  readonly failOn: ((frame: Frame) => boolean) | undefined;
  readonly consume: boolean;
  readonly resolve: (frame: Frame) => void;
  readonly reject: (error: Error) => void;
  readonly seen: Set<Frame>;
}

export class RawPeer {
  readonly t: Test;
  readonly socket: net.Socket;
  /** The server's first SETTINGS (id → value). */
  readonly serverSettings = new Map<number, number>();
  /** Every frame received, in order. */
  readonly received: Frame[] = [];
  closed = false;
  readonly #unread: Frame[] = [];
  readonly #waiters = new Set<Waiter>();
  readonly #closeWaiters = new Set<() => void>();
  readonly #decoder = new HpackDecoder();
  #buffered: Buffer = Buffer.alloc(0);
  #headerBlock: { first: Frame; parts: Buffer[] } | undefined;
  #autoAck: boolean;
  #lastStreamId = 0;
  /** Our SETTINGS_INITIAL_WINDOW_SIZE as last sent. */
  initialWindow = 65_535;

  #noteSettings(entries: readonly (readonly [number, number])[]): void {
    for (const [id, value] of entries)
      if (id === Setting.INITIAL_WINDOW_SIZE) this.initialWindow = value;
  }

  private constructor(t: Test, socket: net.Socket, autoAck: boolean) {
    this.t = t;
    this.socket = socket;
    this.#autoAck = autoAck;
    socket.on('data', (chunk: Buffer) => this.#onData(chunk));
    socket.on('error', () => undefined);
    socket.on('end', () => this.#onClose());
    socket.on('close', () => this.#onClose());
    t.teardown(() => socket.destroy());
  }

  static async open(t: Test, port: number, options: OpenOptions = {}): Promise<RawPeer> {
    const socket = net.connect(port, '127.0.0.1');
    const peer = new RawPeer(t, socket, options.autoAck ?? true);
    await new Promise<void>((resolve, reject) => {
      socket.once('connect', resolve);
      socket.once('error', reject);
    });
    socket.setNoDelay(true);
    if (options.preface ?? true) {
      peer.#noteSettings(options.settings ?? []);
      peer.send(
        PREFACE,
        encodeFrame(FrameType.SETTINGS, 0, 0, settingsPayload(options.settings ?? [])),
      );
    }
    if (options.handshake ?? true) {
      const first = await peer.nextFrame('the server preface (SETTINGS)', () => true);
      if (first.type !== FrameType.SETTINGS || (first.flags & Flag.ACK) !== 0) {
        throw new Error(`server preface: wanted SETTINGS, got ${describe(first)}`);
      }
      await peer.nextFrame(
        'SETTINGS ACK',
        (f) => f.type === FrameType.SETTINGS && (f.flags & Flag.ACK) !== 0,
        { failOn: (f) => f.type === FrameType.GOAWAY },
      );
    }
    return peer;
  }

  // ---- sending ----

  send(...chunks: Buffer[]): void {
    if (this.socket.destroyed) return;
    this.socket.write(chunks.length === 1 ? (chunks[0] ?? Buffer.alloc(0)) : Buffer.concat(chunks));
  }

  /** Writes and resolves once the socket took it (backpressure for floods). */
  async sendAndDrain(chunk: Buffer): Promise<void> {
    if (this.socket.destroyed || this.closed) return;
    if (this.socket.write(chunk)) return;
    await new Promise<void>((resolve) => {
      const done = (): void => {
        this.socket.off('drain', done);
        this.socket.off('close', done);
        resolve();
      };
      this.socket.on('drain', done);
      this.socket.on('close', done);
    });
  }

  frame(type: number, flags: number, streamId: number, payload?: Buffer, length?: number): void {
    this.send(encodeFrame(type, flags, streamId, payload, length));
  }

  /** The next client stream id above every one used so far. */
  nextStreamId(): number {
    return this.#lastStreamId + 2 - (this.#lastStreamId % 2 === 0 ? 1 : 0);
  }

  headers(
    streamId: number,
    block: Buffer,
    options: {
      endStream?: boolean;
      endHeaders?: boolean;
      padLength?: number;
      priority?: { dependency: number; weight: number; exclusive?: boolean };
    } = {},
  ): void {
    if (streamId % 2 === 1) this.#lastStreamId = Math.max(this.#lastStreamId, streamId);
    let flags = 0;
    if (options.endStream ?? false) flags |= Flag.END_STREAM;
    if (options.endHeaders ?? true) flags |= Flag.END_HEADERS;
    let payload = block;
    if (options.priority) {
      flags |= Flag.PRIORITY;
      const head = Buffer.alloc(5);
      head.writeUInt32BE(
        (options.priority.dependency | (options.priority.exclusive === true ? 0x80000000 : 0)) >>>
          0,
      );
      head.writeUInt8(options.priority.weight, 4);
      payload = Buffer.concat([head, payload]);
    }
    if (options.padLength !== undefined) {
      flags |= Flag.PADDED;
      payload = padded(payload, options.padLength);
    }
    this.frame(FrameType.HEADERS, flags, streamId, payload);
  }

  continuation(streamId: number, block: Buffer, endHeaders: boolean): void {
    this.frame(FrameType.CONTINUATION, endHeaders ? Flag.END_HEADERS : 0, streamId, block);
  }

  data(
    streamId: number,
    payload: Buffer,
    options: { endStream?: boolean; padLength?: number } = {},
  ): void {
    let flags = options.endStream === true ? Flag.END_STREAM : 0;
    let body = payload;
    if (options.padLength !== undefined) {
      flags |= Flag.PADDED;
      body = padded(payload, options.padLength);
    }
    this.frame(FrameType.DATA, flags, streamId, body);
  }

  settings(entries: readonly (readonly [number, number])[] = []): void {
    this.#noteSettings(entries);
    this.frame(FrameType.SETTINGS, 0, 0, settingsPayload(entries));
  }

  ping(payload: Buffer, ack = false): void {
    this.frame(FrameType.PING, ack ? Flag.ACK : 0, 0, payload);
  }

  windowUpdate(streamId: number, increment: number): void {
    this.frame(FrameType.WINDOW_UPDATE, 0, streamId, u32(increment));
  }

  rstStream(streamId: number, code: number): void {
    this.frame(FrameType.RST_STREAM, 0, streamId, u32(code));
  }

  priority(streamId: number, dependency: number, weight = 16): void {
    const payload = Buffer.alloc(5);
    payload.writeUInt32BE(dependency >>> 0);
    payload.writeUInt8(weight, 4);
    this.frame(FrameType.PRIORITY, 0, streamId, payload);
  }

  /** HEADERS (REQUEST unless `fields`/`block`), then DATA(`body`) if any; END_STREAM on the last unless `endStream` is false. */
  request(
    streamId: number,
    options: { fields?: Fields; block?: Buffer; body?: Buffer; endStream?: boolean } = {},
  ): void {
    const endStream = options.endStream ?? true;
    const block = options.block ?? headerBlock(options.fields ?? REQUEST);
    const body = options.body;
    this.headers(streamId, block, { endStream: endStream && body === undefined });
    if (body !== undefined) this.data(streamId, body, { endStream });
  }

  // ---- receiving ----

  /** `closed`, unnarrowed: for checks after an await. */
  isClosed(): boolean {
    return this.closed;
  }

  #onData(chunk: Buffer): void {
    this.#buffered = this.#buffered.length === 0 ? chunk : Buffer.concat([this.#buffered, chunk]);
    while (this.#buffered.length >= 9) {
      const length = this.#buffered.readUIntBE(0, 3);
      if (this.#buffered.length < 9 + length) break;
      const frame: Frame = {
        type: this.#buffered.readUInt8(3),
        flags: this.#buffered.readUInt8(4),
        streamId: this.#buffered.readUInt32BE(5) & 0x7fffffff,
        payload: Buffer.from(this.#buffered.subarray(9, 9 + length)),
      };
      this.#buffered = this.#buffered.subarray(9 + length);
      this.#onFrame(frame);
    }
  }

  #onFrame(frame: Frame): void {
    if (frame.type === FrameType.SETTINGS && (frame.flags & Flag.ACK) === 0) {
      if (this.serverSettings.size === 0 && this.received.length === 0) {
        for (let i = 0; i + 6 <= frame.payload.length; i += 6) {
          this.serverSettings.set(frame.payload.readUInt16BE(i), frame.payload.readUInt32BE(i + 2));
        }
      }
      if (this.#autoAck) this.frame(FrameType.SETTINGS, Flag.ACK, 0);
    }
    if (frame.type === FrameType.PING && (frame.flags & Flag.ACK) === 0 && this.#autoAck) {
      this.frame(FrameType.PING, Flag.ACK, 0, frame.payload);
    }
    if (frame.type === FrameType.HEADERS) {
      let fragment = frame.payload;
      let offset = 0;
      let padLength = 0;
      if (frame.flags & Flag.PADDED) {
        padLength = fragment.readUInt8(0);
        offset = 1;
      }
      if (frame.flags & Flag.PRIORITY) offset += 5;
      fragment = fragment.subarray(offset, fragment.length - padLength);
      this.#headerBlock = { first: frame, parts: [fragment] };
      if ((frame.flags & Flag.END_HEADERS) === 0) return;
    } else if (frame.type === FrameType.CONTINUATION && this.#headerBlock) {
      this.#headerBlock.parts.push(frame.payload);
      if ((frame.flags & Flag.END_HEADERS) === 0) return;
    }
    let delivered = frame;
    if (this.#headerBlock && (frame.flags & Flag.END_HEADERS) !== 0) {
      const { first, parts } = this.#headerBlock;
      this.#headerBlock = undefined;
      try {
        delivered = {
          ...first,
          flags: first.flags | Flag.END_HEADERS,
          fields: this.#decoder.decode(Buffer.concat(parts)),
        };
      } catch (error) {
        delivered = { ...first, decodeError: (error as Error).message };
      }
    }
    this.received.push(delivered);
    this.#unread.push(delivered);
    for (const waiter of this.#waiters) this.#serve(waiter);
  }

  #onClose(): void {
    if (this.closed) return;
    this.closed = true;
    for (const waiter of this.#waiters) this.#serve(waiter);
    for (const resolve of this.#closeWaiters) resolve();
    this.#closeWaiters.clear();
  }

  #serve(waiter: Waiter): void {
    for (let i = 0; i < this.#unread.length; i++) {
      const frame = this.#unread[i];
      if (frame === undefined) continue;
      if (waiter.predicate(frame)) {
        if (waiter.consume) this.#unread.splice(i, 1);
        this.#waiters.delete(waiter);
        waiter.resolve(frame);
        return;
      }
      if (waiter.failOn?.(frame) === true) {
        this.#waiters.delete(waiter);
        waiter.reject(new Error(`wanted ${waiter.what}, got ${describe(frame)}`));
        return;
      }
      waiter.seen.add(frame);
    }
    if (this.closed) {
      this.#waiters.delete(waiter);
      waiter.reject(
        new Error(
          `wanted ${waiter.what}, connection closed; unread: ${this.#summary([...waiter.seen])}`,
        ),
      );
    }
  }

  #summary(frames: readonly Frame[]): string {
    if (frames.length === 0) return 'none';
    const shown = frames.slice(-8).map(describe).join(', ');
    return frames.length > 8 ? `${frames.length} frames, last: ${shown}` : shown;
  }

  /**
   * The first unread frame matching `predicate`, waiting at most `timeoutMs`.
   * Rejects early when the connection closes or when an unread frame before
   * the match satisfies `failOn`. With `consume: false` the frame stays
   * unread (a peek).
   */
  async nextFrame(
    what: string,
    predicate: (frame: Frame) => boolean,
    options: { failOn?: (frame: Frame) => boolean; timeoutMs?: number; consume?: boolean } = {},
  ): Promise<Frame> {
    const timeoutMs = options.timeoutMs ?? WAIT_MS;
    let timer: NodeJS.Timeout | undefined;
    try {
      return await new Promise<Frame>((resolve, reject) => {
        const waiter: Waiter = {
          what,
          predicate,
          failOn: options.failOn,
          consume: options.consume ?? true,
          resolve,
          reject,
          seen: new Set(),
        };
        this.#waiters.add(waiter);
        timer = setTimeout(() => {
          this.#waiters.delete(waiter);
          reject(
            new Error(
              `no ${what} within ${timeoutMs} ms; unread: ${this.#summary([...waiter.seen])}`,
            ),
          );
        }, timeoutMs);
        this.#serve(waiter);
      });
    } finally {
      clearTimeout(timer);
    }
  }

  /** Resolves once the server closed the connection (FIN or reset); fails after `timeoutMs`. */
  async expectConnectionClosed(timeoutMs = WAIT_MS): Promise<void> {
    if (!this.closed) {
      let timer: NodeJS.Timeout | undefined;
      try {
        await new Promise<void>((resolve, reject) => {
          this.#closeWaiters.add(resolve);
          timer = setTimeout(() => {
            this.#closeWaiters.delete(resolve);
            reject(new Error(`connection still open after ${timeoutMs} ms`));
          }, timeoutMs);
        });
      } finally {
        clearTimeout(timer);
      }
    }
    this.t.pass('connection closed by the server');
  }

  /**
   * Connection error (§5.4.1): a GOAWAY with `code` (or one of `codes`), then
   * the server closes the connection. Returns the GOAWAY frame.
   */
  async expectGoaway(codes: number | readonly number[]): Promise<Frame> {
    const wanted = typeof codes === 'number' ? [codes] : codes;
    const names = wanted.map(errorName).join(' or ');
    const goaway = await this.nextFrame(`GOAWAY(${names})`, (f) => f.type === FrameType.GOAWAY);
    this.t.equal(goaway.streamId, 0, 'GOAWAY is on stream 0');
    const code = goaway.payload.length >= 8 ? goaway.payload.readUInt32BE(4) : -1;
    this.t.ok(wanted.includes(code), `GOAWAY ${names}`, { found: describe(goaway) });
    await this.expectConnectionClosed();
    return goaway;
  }

  /** Stream error (§5.4.2): RST_STREAM(`streamId`, code); fails at once on a GOAWAY. */
  async expectRstStream(streamId: number, codes: number | readonly number[]): Promise<number> {
    const wanted = typeof codes === 'number' ? [codes] : codes;
    const names = wanted.map(errorName).join(' or ');
    const rst = await this.nextFrame(
      `RST_STREAM(stream ${streamId}, ${names})`,
      (f) => f.type === FrameType.RST_STREAM && f.streamId === streamId,
      { failOn: (f) => f.type === FrameType.GOAWAY },
    );
    const code = rst.payload.length === 4 ? rst.payload.readUInt32BE(0) : -1;
    this.t.ok(wanted.includes(code), `RST_STREAM(${streamId}) ${names}`, { found: describe(rst) });
    return code;
  }

  /** A stream error, then proof that the connection still serves requests. */
  async expectStreamError(streamId: number, codes: number | readonly number[]): Promise<void> {
    await this.expectRstStream(streamId, codes);
    await this.expectWorking();
  }

  /**
   * Where the RFC allows either (e.g. §6.9.1 window overrun, §4.2 DATA over
   * the max frame size): RST_STREAM(`streamId`) then a working connection, or
   * GOAWAY then close; the code is checked either way.
   */
  async expectStreamOrConnectionError(
    streamId: number,
    codes: number | readonly number[],
  ): Promise<'stream' | 'connection'> {
    const wanted = typeof codes === 'number' ? [codes] : codes;
    const names = wanted.map(errorName).join(' or ');
    const frame = await this.nextFrame(
      `RST_STREAM(stream ${streamId}) or GOAWAY, ${names}`,
      (f) =>
        f.type === FrameType.GOAWAY || (f.type === FrameType.RST_STREAM && f.streamId === streamId),
    );
    const code =
      frame.type === FrameType.GOAWAY
        ? frame.payload.length >= 8
          ? frame.payload.readUInt32BE(4)
          : -1
        : frame.payload.length === 4
          ? frame.payload.readUInt32BE(0)
          : -1;
    this.t.ok(wanted.includes(code), `${describe(frame)} carries ${names}`);
    if (frame.type === FrameType.GOAWAY) {
      await this.expectConnectionClosed();
      return 'connection';
    }
    await this.expectWorking();
    return 'stream';
  }

  /** Reads one response: HEADERS, DATA up to END_STREAM (or trailers). Fails on RST_STREAM or GOAWAY. */
  async readResponse(streamId: number): Promise<Response> {
    const failOn = (f: Frame): boolean =>
      f.type === FrameType.GOAWAY || (f.type === FrameType.RST_STREAM && f.streamId === streamId);
    const onStream = (f: Frame): boolean =>
      f.streamId === streamId && (f.type === FrameType.HEADERS || f.type === FrameType.DATA);
    const head = await this.nextFrame(`response HEADERS on stream ${streamId}`, onStream, {
      failOn,
    });
    if (head.type !== FrameType.HEADERS) throw new Error(`wanted HEADERS, got ${describe(head)}`);
    if (head.fields === undefined) throw new Error(`response HEADERS: ${head.decodeError ?? '?'}`);
    const chunks: Buffer[] = [];
    let trailers: [string, string][] = [];
    let ended = (head.flags & Flag.END_STREAM) !== 0;
    while (!ended) {
      const next = await this.nextFrame(`response DATA/trailers on stream ${streamId}`, onStream, {
        failOn,
      });
      if (next.type === FrameType.DATA) {
        chunks.push(dataPayload(next));
      } else {
        trailers = next.fields ?? [];
      }
      ended = (next.flags & Flag.END_STREAM) !== 0;
    }
    return { headers: head.fields, body: Buffer.concat(chunks), trailers };
  }

  /** A fresh request that must get the echo app's full answer: the connection works. */
  async expectWorking(): Promise<void> {
    const streamId = this.nextStreamId();
    const body = Buffer.from(`still working on stream ${streamId}`);
    this.socket.cork();
    this.request(streamId, { body });
    // Our receive window may be small (flow-control tests): let the echo through.
    // (More than the body: node:http2 sends trailers only with window left.)
    if (this.initialWindow < 1024) this.windowUpdate(streamId, 65_535);
    this.socket.uncork();
    const response = await this.readResponse(streamId);
    this.t.same(
      {
        status: field(response.headers, ':status'),
        body: response.body.toString(),
        grpc: field(response.trailers, 'grpc-status'),
      },
      { status: '200', body: body.toString(), grpc: '0' },
      `a follow-up request (stream ${streamId}) succeeds`,
    );
  }

  /**
   * Proof that the server processed everything sent so far without reacting:
   * a PING round trip (frames are processed in order), with no GOAWAY and no
   * RST_STREAM before its ACK.
   */
  async expectNoErrorSoFar(): Promise<void> {
    const payload = Buffer.from(`sync${String(this.received.length).padStart(4, '0')}`).subarray(
      0,
      8,
    );
    this.ping(payload);
    await this.nextFrame(
      'PING ACK (the server processed the frames before it)',
      (f) => f.type === FrameType.PING && (f.flags & Flag.ACK) !== 0 && f.payload.equals(payload),
      { failOn: (f) => f.type === FrameType.GOAWAY || f.type === FrameType.RST_STREAM },
    );
    this.t.pass('no error so far');
  }
}

export function field(
  fields: readonly (readonly [string, string])[],
  name: string,
): string | undefined {
  return fields.find(([n]) => n === name)?.[1];
}

/** A DATA frame's payload without its padding. */
export function dataPayload(frame: Frame): Buffer {
  if ((frame.flags & Flag.PADDED) === 0) return frame.payload;
  const padLength = frame.payload.readUInt8(0);
  return frame.payload.subarray(1, frame.payload.length - padLength);
}
