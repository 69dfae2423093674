/**
 * One HTTP/2 connection (RFC 9113) over a net.Socket or tls.TLSSocket, in
 * the server or the client role.
 *
 * Frames come from a FrameReader and are dispatched here: connection-level
 * frames (SETTINGS, PING, GOAWAY, WINDOW_UPDATE on stream 0) are handled
 * here, stream frames go to the H2Stream after the id checks of §5.1.1
 * (parity, increasing ids, idle and closed streams). Each frame is handled
 * in a try/catch: H2StreamError becomes RST_STREAM and parsing goes on;
 * H2ConnectionError becomes GOAWAY and the end of the connection.
 *
 * Output goes through one FrameWriter: control frames and header blocks are
 * written as they happen, DATA is pumped from the streams' queues once per
 * flush (round robin, one frame per stream per pass, within the connection
 * window and a per-flush budget). Stream completions and onWritable calls
 * found during the pump run after the socket write, so no handler runs
 * while the pump walks its list.
 *
 * Callbacks (ConnectionEvents, StreamHandler), not EventEmitter, carry
 * events out of the engine.
 */
import type * as net from 'node:net';
import {
  CANCEL,
  COMPRESSION_ERROR,
  DEFAULT_WINDOW,
  FLAG_ACK,
  FLAG_END_HEADERS,
  FLAG_END_STREAM,
  FLAG_PADDED,
  FLAG_PRIORITY,
  FLOW_CONTROL_ERROR,
  FRAME_CONTINUATION,
  FRAME_DATA,
  FRAME_GOAWAY,
  FRAME_HEADERS,
  FRAME_PING,
  FRAME_PRIORITY,
  FRAME_PUSH_PROMISE,
  FRAME_RST_STREAM,
  FRAME_SETTINGS,
  FRAME_SIZE_ERROR,
  FRAME_WINDOW_UPDATE,
  ENHANCE_YOUR_CALM,
  INTERNAL_ERROR,
  LOCAL_DEFAULT_SETTINGS,
  MAX_MAX_FRAME_SIZE,
  MAX_STREAM_ID,
  MAX_WINDOW,
  MIN_MAX_FRAME_SIZE,
  NO_ERROR,
  PROTOCOL_DEFAULT_SETTINGS,
  PROTOCOL_ERROR,
  REFUSED_STREAM,
  SETTINGS_ENABLE_PUSH,
  SETTINGS_HEADER_TABLE_SIZE,
  SETTINGS_INITIAL_WINDOW_SIZE,
  SETTINGS_MAX_CONCURRENT_STREAMS,
  SETTINGS_MAX_FRAME_SIZE,
  SETTINGS_MAX_HEADER_LIST_SIZE,
  SETTINGS_TIMEOUT,
  STREAM_CLOSED,
  type H2Settings,
} from './constants.js';
import {
  DEFAULT_FLOOD_LIMITS,
  RateWindow,
  type AbuseKind,
  type FloodLimits,
} from './flood-limits.js';
import { FrameReader, type FrameSink } from './frame-reader.js';
import { FrameWriter, type WriterOwner } from './frame-writer.js';
import { H2ConnectionError, H2StreamError } from './h2-error.js';
import { H2Stream, NO_HANDLER, type StreamHandler } from './h2-stream.js';
import { checkRequestHead, getField, type HeaderFields } from './header-fields.js';
import { HpackDecoder } from './hpack/hpack-decoder.js';
import { HpackEncoder } from './hpack/hpack-encoder.js';
import { StreamTable } from './stream-table.js';

export type { H2Settings } from './constants.js';
export type { AbuseKind, FloodLimits } from './flood-limits.js';

export interface ConnectionOptions {
  role: 'client' | 'server';
  /** What we advertise in our SETTINGS (defaults: LOCAL_DEFAULT_SETTINGS). */
  settings?: Partial<H2Settings>;
  /** Our connection receive window (WINDOW_UPDATE on stream 0 right after SETTINGS). Default 65535. */
  connectionWindow?: number;
  /** No SETTINGS ACK within this: GOAWAY SETTINGS_TIMEOUT. Default 10 s. */
  settingsTimeoutMs?: number;
  /**
   * Client role: streams opened before the peer's SETTINGS say how many it
   * allows (the rest wait for them). Default 100, the least §6.5.2
   * recommends, as node:http2's `peerMaxConcurrentStreams`; a pool that
   * learned a lower limit from an earlier connection passes that.
   */
  peerMaxConcurrentStreams?: number;
  limits?: FloodLimits;
}

export interface ConnectionEvents {
  /** Server role: a peer opened a stream with a valid request head. Set stream.handler synchronously. */
  onStream?(stream: H2Stream, fields: HeaderFields, endStream: boolean): void;
  /** The peer's first SETTINGS arrived, then every later SETTINGS. */
  onRemoteSettings?(settings: Readonly<H2Settings>, first: boolean): void;
  onGoaway?(code: number, lastStreamId: number, debugData: Buffer): void;
  /** A flood limit tripped; the connection is being closed with ENHANCE_YOUR_CALM. */
  onAbuse?(kind: AbuseKind): void;
  /** The connection failed (socket error, connection error sent or received). Before onClose. */
  onError?(error: Error): void;
  /** Once, last: socket closed and every stream closed. */
  onClose?(): void;
}

interface PendingPing {
  readonly id: number;
  readonly callback: (error: Error | null) => void;
}

/** The payload of an empty DATA frame. */
const EMPTY = Buffer.alloc(0);
/** DATA bytes one flush may queue before yielding to the event loop. */
const PUMP_BUDGET = 256 * 1024;
/** Stream ids we sent RST_STREAM for, remembered to ignore the peer's frames in flight. */
const RESET_MEMORY = 1024;
/** The largest HPACK table we let a peer's SETTINGS_HEADER_TABLE_SIZE give our encoder. */
const ENCODER_TABLE_CAP = 4096;
/** Client role: streams opened before the peer's SETTINGS say how many it allows (default). */
const INITIAL_STREAM_LIMIT = 100;
/** How many ranges of skipped peer stream ids are remembered. */
const SKIPPED_RANGES = 16;
/** Internal flag (above the 8 wire bits): the HEADERS priority block names the stream itself. */
const SELF_DEPENDENT = 0x100;
/** How long a connection that sent GOAWAY for an error waits for the peer to close. */
const ERROR_LINGER_MS = 1000;

function checkSettings(s: H2Settings): void {
  if (s.initialWindowSize < 0 || s.initialWindowSize > MAX_WINDOW) {
    throw new RangeError(`initialWindowSize out of range: ${s.initialWindowSize}`);
  }
  if (s.maxFrameSize < MIN_MAX_FRAME_SIZE || s.maxFrameSize > MAX_MAX_FRAME_SIZE) {
    throw new RangeError(`maxFrameSize out of range: ${s.maxFrameSize}`);
  }
}

/** Our SETTINGS payload: the settings that differ from the protocol's initial values. */
function settingsPairs(s: H2Settings, role: 'client' | 'server'): number[] {
  const pairs: number[] = [];
  const d = PROTOCOL_DEFAULT_SETTINGS;
  if (s.headerTableSize !== d.headerTableSize)
    pairs.push(SETTINGS_HEADER_TABLE_SIZE, s.headerTableSize);
  // Server push is not supported: a client always disables it; a server may not send 1.
  if (role === 'client') pairs.push(SETTINGS_ENABLE_PUSH, 0);
  if (Number.isFinite(s.maxConcurrentStreams)) {
    pairs.push(SETTINGS_MAX_CONCURRENT_STREAMS, s.maxConcurrentStreams);
  }
  if (s.initialWindowSize !== d.initialWindowSize) {
    pairs.push(SETTINGS_INITIAL_WINDOW_SIZE, s.initialWindowSize);
  }
  if (s.maxFrameSize !== d.maxFrameSize) pairs.push(SETTINGS_MAX_FRAME_SIZE, s.maxFrameSize);
  if (Number.isFinite(s.maxHeaderListSize)) {
    pairs.push(SETTINGS_MAX_HEADER_LIST_SIZE, s.maxHeaderListSize);
  }
  return pairs;
}

function protocolError(message: string): H2ConnectionError {
  return new H2ConnectionError(PROTOCOL_ERROR, message);
}

export class H2Connection implements FrameSink, WriterOwner {
  readonly role: 'client' | 'server';
  readonly socket: net.Socket;
  /** @internal The connection's output; streams write through it. */
  readonly writer: FrameWriter;
  /** @internal Owed stream credit worth a WINDOW_UPDATE (half our initial window). */
  readonly streamCreditThreshold: number;

  private readonly events: ConnectionEvents;
  private readonly local: H2Settings;
  private readonly remote: H2Settings;
  private readonly reader: FrameReader;
  private readonly decoder: HpackDecoder;
  private readonly encoder = new HpackEncoder();
  private encoderTableSize = PROTOCOL_DEFAULT_SETTINGS.headerTableSize;
  private readonly streams = new StreamTable<H2Stream>();
  /** Client role: streams waiting for a slot under the peer's MAX_CONCURRENT_STREAMS. */
  private readonly pendingOpen: H2Stream[] = [];
  /** Streams with something the pump may send; `spare` is the list of the next pass. */
  private ready: H2Stream[] = [];
  private spare: H2Stream[] = [];
  private completed: H2Stream[] = [];
  private completedSpare: H2Stream[] = [];
  private writable: H2Stream[] = [];
  private writableSpare: H2Stream[] = [];
  private nextStreamId: number;
  private lastPeerStreamId = 0;
  /** The peer's connection window (what we may send). */
  private sendWindow = DEFAULT_WINDOW;
  /** Our connection window (what the peer may send), and credit owed. */
  private recvWindow = DEFAULT_WINDOW;
  private recvOwed = 0;
  private readonly connectionCreditThreshold: number;
  private settingsReceived = false;
  /** Client role: streams opened before the peer's SETTINGS arrive. */
  private readonly initialStreamLimit: number;
  /**
   * Client role: the socket connected (TLS: the handshake completed), so
   * request HEADERS written to it may have reached the peer.
   */
  private peerReachable: boolean;
  /** The peer acknowledged our SETTINGS (until then it may use the protocol's initial window). */
  private localSettingsAcked = false;
  private settingsTimer: NodeJS.Timeout | undefined;
  private goawaySentId = -1;
  private goawayRecv: { code: number; lastStreamId: number } | undefined;
  /** close() was called: the socket ends when the last stream closes. */
  private closing = false;
  /** No more frames are read or written (connection error, destroy, socket closed). */
  private dead = false;
  private socketClosed = false;
  /** The code streams lost with the connection close with (GOAWAY sent or received). */
  private errorCode = NO_ERROR;
  private errorReported = false;
  private socketError: Error | undefined;
  private readonly pings: PendingPing[] = [];
  private pingCounter = 0;
  /** A header block in progress (HEADERS without END_HEADERS): its stream, flags, parts. */
  private contStream = 0;
  private contFlags = 0;
  private contParts: Buffer[] = [];
  private contCount = 0;
  private emptyRun = 0;
  private readonly maxContinuations: number;
  private readonly maxEmptyFrames: number;
  private readonly pingRate: RateWindow;
  private readonly settingsRate: RateWindow;
  private readonly resetRate: RateWindow;
  private readonly resetIds = new Set<number>();
  private readonly resetRing: number[] = [];
  private resetRingPos = 0;
  /** Ranges [from, to] of peer stream ids skipped over (never opened). */
  private readonly skippedRanges: number[] = [];

  private readonly onSocketData = (chunk: Buffer): void => {
    if (this.dead) return;
    try {
      this.reader.push(chunk);
    } catch (error) {
      this.onFrameError(error);
    }
  };

  private readonly onSocketError = (error: Error): void => {
    this.socketError ??= error;
  };

  private readonly onSocketClose = (): void => {
    this.closeNow();
  };

  private readonly onSettingsTimeout = (): void => {
    this.settingsTimer = undefined;
    this.connectionError(new H2ConnectionError(SETTINGS_TIMEOUT, 'no SETTINGS ACK in time'));
  };

  constructor(socket: net.Socket, options: ConnectionOptions, events: ConnectionEvents) {
    this.role = options.role;
    this.socket = socket;
    this.events = events;
    this.local = { ...LOCAL_DEFAULT_SETTINGS, ...options.settings };
    checkSettings(this.local);
    this.remote = { ...PROTOCOL_DEFAULT_SETTINGS };
    const limits = { ...DEFAULT_FLOOD_LIMITS, ...options.limits };
    this.maxContinuations = limits.maxContinuations;
    this.maxEmptyFrames = limits.maxEmptyFrames;
    this.pingRate = new RateWindow(limits.maxPingsPerSecond);
    this.settingsRate = new RateWindow(limits.maxSettingsPerSecond);
    this.resetRate = new RateWindow(limits.maxResetsPerSecond);
    this.nextStreamId = this.role === 'client' ? 1 : 2;
    this.initialStreamLimit = Math.max(1, options.peerMaxConcurrentStreams ?? INITIAL_STREAM_LIMIT);
    this.peerReachable = this.role === 'server' || !socket.pending;
    this.streamCreditThreshold = Math.max(1, Math.floor(this.local.initialWindowSize / 2));
    const connectionWindow = Math.min(
      MAX_WINDOW,
      Math.max(DEFAULT_WINDOW, options.connectionWindow ?? DEFAULT_WINDOW),
    );
    this.connectionCreditThreshold = Math.floor(connectionWindow / 2);
    this.decoder = new HpackDecoder(this.local.headerTableSize, this.local.maxHeaderListSize);
    this.reader = new FrameReader(this, this.local.maxFrameSize, this.role === 'server');
    this.writer = new FrameWriter(socket, this);

    if (this.role === 'client') this.writer.preface();
    this.writer.settings(false, settingsPairs(this.local, this.role));
    if (connectionWindow > DEFAULT_WINDOW) {
      this.writer.windowUpdate(0, connectionWindow - DEFAULT_WINDOW);
      this.recvWindow = connectionWindow;
    }
    this.settingsTimer = setTimeout(this.onSettingsTimeout, options.settingsTimeoutMs ?? 10_000);
    this.settingsTimer.unref();

    socket.setNoDelay(true);
    socket.on('data', this.onSocketData);
    socket.on('error', this.onSocketError);
    socket.on('close', this.onSocketClose);
    if (!this.peerReachable) {
      // A TLSSocket has `encrypted`; its HEADERS leave only after the handshake.
      socket.once('encrypted' in socket ? 'secureConnect' : 'connect', () => {
        this.peerReachable = true;
      });
    }
    if (socket.destroyed) queueMicrotask(this.onSocketClose);
  }

  get remoteSettings(): Readonly<H2Settings> {
    return this.remote;
  }

  /** The peer's SETTINGS arrived (client: the connection works). */
  get remoteSettingsReceived(): boolean {
    return this.settingsReceived;
  }

  /** The open streams now, as an array (safe to use while they close). */
  openStreams(): H2Stream[] {
    return this.streams.values();
  }

  /** Open streams, plus client streams waiting for a slot. */
  get activeStreams(): number {
    return this.streams.size + this.pendingOpen.length;
  }

  /** Neither GOAWAY sent nor received, not closed: new streams allowed. */
  get acceptingStreams(): boolean {
    return !this.dead && !this.closing && this.goawaySentId < 0 && this.goawayRecv === undefined;
  }

  get goawayReceived(): { code: number; lastStreamId: number } | undefined {
    return this.goawayRecv;
  }

  get closed(): boolean {
    return this.dead;
  }

  // ---------------------------------------------------------------- public API

  /**
   * Client role: opens a stream. HEADERS go out when a stream slot is free;
   * throws H2ConnectionError when no new stream can be made.
   */
  request(fields: HeaderFields, endStream: boolean, handler: StreamHandler): H2Stream {
    if (this.role !== 'client') throw protocolError('request() needs the client role');
    if (!this.acceptingStreams) {
      throw new H2ConnectionError(REFUSED_STREAM, 'connection is not accepting new streams');
    }
    if (this.nextStreamId + 2 * this.pendingOpen.length > MAX_STREAM_ID) {
      throw new H2ConnectionError(REFUSED_STREAM, 'stream ids exhausted');
    }
    const stream = new H2Stream(this, handler, false);
    stream.pendingHead = fields;
    stream.noResponseBody = getField(fields, ':method') === 'HEAD';
    if (endStream) stream.endQueued = true;
    if (this.pendingOpen.length === 0 && this.streams.size < this.streamLimit()) {
      this.openLocal(stream);
    } else {
      this.pendingOpen.push(stream);
    }
    return stream;
  }

  /** PING; callback on its ACK (null) or when the connection dies (an Error). False if not sent. */
  ping(callback: (error: Error | null) => void): boolean {
    if (this.dead) return false;
    const id = ++this.pingCounter;
    const payload = Buffer.alloc(8);
    payload.writeUInt32BE(id >>> 0, 4);
    this.pings.push({ id, callback });
    this.writer.ping(false, payload);
    return true;
  }

  /** Sends GOAWAY; lastStreamId defaults to the highest peer stream processed. Streams above it close as refused. */
  goaway(code: number = NO_ERROR, lastStreamId?: number, debugData?: Buffer): void {
    if (this.dead) return;
    let last = lastStreamId ?? this.lastPeerStreamId;
    if (this.goawaySentId >= 0 && last > this.goawaySentId) last = this.goawaySentId;
    this.goawaySentId = last;
    this.writer.goaway(last, code, debugData);
    const peerParity = this.role === 'server' ? 1 : 0;
    for (const stream of this.streams.values()) {
      if ((stream.sid & 1) === peerParity && stream.sid > last) {
        this.rememberReset(stream.sid);
        stream.finish(REFUSED_STREAM, 'refused');
      }
    }
    this.refusePending();
    this.maybeEnd();
  }

  /** Graceful: GOAWAY(NO_ERROR) unless sent; the socket closes once every stream has. */
  close(): void {
    if (this.dead || this.closing) return;
    this.closing = true;
    if (this.goawaySentId < 0) this.goaway(NO_ERROR);
    else this.maybeEnd();
  }

  /** At once: GOAWAY(code) if possible, every stream closes with `error`, socket destroyed. */
  destroy(error?: Error, code?: number): void {
    if (!this.dead) {
      const c = code ?? (error === undefined ? NO_ERROR : INTERNAL_ERROR);
      this.dead = true;
      this.reader.stopped = true;
      if (this.goawaySentId < 0 || c !== NO_ERROR) {
        this.writer.goaway(this.lastPeerStreamId, c, undefined);
      }
      if (c !== NO_ERROR) this.errorCode = c;
      this.writer.flush();
      this.writer.close();
      if (error !== undefined) this.reportError(error);
      this.failStreams(error ?? new Error('connection destroyed'));
    }
    this.socket.destroy();
  }

  // ------------------------------------------------------- frames coming in

  /** @internal FrameSink: one frame from the reader. */
  onFrame(
    type: number,
    flags: number,
    streamId: number,
    buffer: Buffer,
    start: number,
    end: number,
  ): void {
    try {
      if (this.contStream !== 0 && type !== FRAME_CONTINUATION) {
        throw protocolError('frame other than CONTINUATION inside a header block');
      }
      if (!this.settingsReceived && type !== FRAME_SETTINGS) {
        throw protocolError('the first frame must be SETTINGS');
      }
      switch (type) {
        // The frequent frames are read in place; a view is made of DATA (passed
        // on) and of the rare frame types.
        case FRAME_DATA:
          this.onData(flags, streamId, end === start ? EMPTY : buffer.subarray(start, end));
          break;
        case FRAME_HEADERS:
          this.onHeaders(flags, streamId, buffer, start, end);
          break;
        case FRAME_PRIORITY:
          this.onPriority(streamId, buffer.subarray(start, end));
          break;
        case FRAME_RST_STREAM:
          this.onRstStream(streamId, buffer, start, end);
          break;
        case FRAME_SETTINGS:
          this.onSettings(flags, streamId, buffer.subarray(start, end));
          break;
        case FRAME_PUSH_PROMISE:
          throw protocolError('PUSH_PROMISE (push is disabled)');
        case FRAME_PING:
          this.onPing(flags, streamId, buffer.subarray(start, end));
          break;
        case FRAME_GOAWAY:
          this.onGoaway(streamId, buffer.subarray(start, end));
          break;
        case FRAME_WINDOW_UPDATE:
          this.onWindowUpdate(streamId, buffer, start, end);
          break;
        case FRAME_CONTINUATION:
          this.onContinuation(flags, streamId, buffer.subarray(start, end));
          break;
        default:
        // §5.5: unknown frame types are ignored.
      }
    } catch (error) {
      this.onFrameError(error);
    }
  }

  private onData(flags: number, id: number, payload: Buffer): void {
    if (id === 0) throw protocolError('DATA on stream 0');
    const frameLength = payload.length;
    const endStream = (flags & FLAG_END_STREAM) !== 0;
    if (frameLength === 0 && !endStream) this.countEmpty();
    else this.emptyRun = 0;
    const data = (flags & FLAG_PADDED) === 0 ? payload : unpad(payload);
    if (frameLength > this.recvWindow) {
      throw new H2ConnectionError(FLOW_CONTROL_ERROR, 'DATA beyond the connection window');
    }
    // The connection window is credited as bytes arrive: a paused stream holds
    // its own window back, not everyone's.
    if (frameLength > 0) {
      this.recvWindow -= frameLength;
      const owed = this.recvOwed + frameLength;
      if (owed >= this.connectionCreditThreshold) {
        this.writer.windowUpdate(0, owed);
        this.recvWindow += owed;
        this.recvOwed = 0;
      } else {
        this.recvOwed = owed;
      }
    }
    const stream = this.streams.get(id);
    if (stream !== undefined) {
      stream.receiveData(data, endStream, frameLength);
      return;
    }
    if (this.isIdle(id)) throw protocolError(`DATA on idle stream ${id}`);
    if (this.resetIds.has(id)) return;
    throw new H2StreamError(STREAM_CLOSED, id, 'DATA on a closed stream');
  }

  private onHeaders(flags: number, id: number, buffer: Buffer, start: number, end: number): void {
    if (id === 0) throw protocolError('HEADERS on stream 0');
    let off = start;
    if ((flags & FLAG_PADDED) !== 0) {
      if (end - start < 1)
        throw new H2ConnectionError(FRAME_SIZE_ERROR, 'PADDED HEADERS too short');
      end -= buffer[start] ?? 0;
      off = start + 1;
    }
    if ((flags & FLAG_PRIORITY) !== 0) {
      if (off + 5 <= end && (buffer.readUInt32BE(off) & 0x7fffffff) === id) {
        flags |= SELF_DEPENDENT;
      }
      off += 5;
    }
    if (off > end) throw protocolError('HEADERS padding or priority exceeds the frame');
    if (off === end && (flags & FLAG_END_STREAM) === 0) this.countEmpty();
    else this.emptyRun = 0;
    if ((flags & FLAG_END_HEADERS) !== 0) {
      this.onHeaderBlock(id, flags, buffer, off, end);
      return;
    }
    this.contStream = id;
    this.contFlags = flags;
    this.contParts.push(buffer.subarray(off, end));
    this.contCount = 0;
  }

  private onContinuation(flags: number, id: number, payload: Buffer): void {
    if (this.contStream === 0) throw protocolError('CONTINUATION without HEADERS');
    if (id !== this.contStream) throw protocolError('CONTINUATION on another stream');
    if (++this.contCount > this.maxContinuations) {
      this.abuse('continuation_flood');
      return;
    }
    const endHeaders = (flags & FLAG_END_HEADERS) !== 0;
    if (payload.length === 0 && !endHeaders) this.countEmpty();
    this.contParts.push(payload);
    if (!endHeaders) return;
    const parts = this.contParts;
    this.contParts = [];
    this.contStream = 0;
    const block = (parts.length === 1 ? parts[0] : undefined) ?? Buffer.concat(parts);
    this.onHeaderBlock(id, this.contFlags, block, 0, block.length);
  }

  /** A complete header block, `buffer[start, end)`. */
  private onHeaderBlock(
    id: number,
    flags: number,
    buffer: Buffer,
    start: number,
    end: number,
  ): void {
    let fields: HeaderFields;
    try {
      fields = this.decoder.decodeRange(buffer, start, end);
    } catch (error) {
      throw new H2ConnectionError(COMPRESSION_ERROR, (error as Error).message);
    }
    const oversize = this.decoder.oversize;
    const endStream = (flags & FLAG_END_STREAM) !== 0;
    if ((flags & SELF_DEPENDENT) !== 0) {
      // §5.3.1 (the block was decoded first: the HPACK state stays in sync).
      if (this.role === 'server' && (id & 1) === 1) this.notePeerStream(id);
      throw new H2StreamError(PROTOCOL_ERROR, id, 'stream depends on itself');
    }
    const stream = this.streams.get(id);
    if (stream !== undefined) {
      if (oversize) {
        throw new H2StreamError(PROTOCOL_ERROR, id, 'header list above MAX_HEADER_LIST_SIZE');
      }
      stream.receiveHeaders(fields, endStream);
      return;
    }
    if (this.role === 'server' && (id & 1) === 1 && id > this.lastPeerStreamId) {
      this.openPeerStream(id, fields, endStream, oversize);
      return;
    }
    if (this.isIdle(id)) throw protocolError(`HEADERS on idle stream ${id}`);
    if (this.resetIds.has(id)) return;
    if (this.wasSkipped(id)) {
      throw protocolError(`HEADERS on stream ${id}, below a newer stream (§5.1.1)`);
    }
    throw new H2ConnectionError(STREAM_CLOSED, `HEADERS on closed stream ${id}`);
  }

  /** Server role: HEADERS opening stream `id`. */
  private openPeerStream(
    id: number,
    fields: HeaderFields,
    endStream: boolean,
    oversize: boolean,
  ): void {
    this.notePeerStream(id);
    // Above the last-stream-id of a GOAWAY we sent: never processed (§6.8).
    // The first GOAWAY of a graceful close says 2^31-1, so streams still
    // in flight towards us are taken.
    if ((this.goawaySentId >= 0 && id > this.goawaySentId) || this.dead) {
      this.sendReset(id, REFUSED_STREAM);
      return;
    }
    if (oversize) {
      // As node:http2 does: a reset gRPC clients read as RESOURCE_EXHAUSTED
      // (a 431 would reach them as UNKNOWN).
      this.sendReset(id, ENHANCE_YOUR_CALM);
      return;
    }
    if (this.streams.size >= this.local.maxConcurrentStreams) {
      this.sendReset(id, REFUSED_STREAM);
      if (this.resetRate.hit()) this.abuse('rapid_reset');
      return;
    }
    const contentLength = checkRequestHead(fields, id);
    const stream = new H2Stream(this, NO_HANDLER, true);
    stream.start(id, this.remote.initialWindowSize, this.recvInitialWindow());
    stream.receiveRequestHead(contentLength, endStream);
    this.streams.set(id, stream);
    if (this.events.onStream === undefined) stream.reset(REFUSED_STREAM);
    else this.events.onStream(stream, fields, endStream);
  }

  private onPriority(id: number, payload: Buffer): void {
    if (id === 0) throw protocolError('PRIORITY on stream 0');
    if (payload.length !== 5) throw new H2StreamError(FRAME_SIZE_ERROR, id, 'PRIORITY length');
    if ((payload.readUInt32BE(0) & 0x7fffffff) === id) {
      throw new H2StreamError(PROTOCOL_ERROR, id, 'stream depends on itself');
    }
  }

  private onRstStream(id: number, buffer: Buffer, start: number, end: number): void {
    if (end - start !== 4) throw new H2ConnectionError(FRAME_SIZE_ERROR, 'RST_STREAM length');
    if (id === 0) throw protocolError('RST_STREAM on stream 0');
    if (this.resetRate.hit()) {
      this.abuse('rapid_reset');
      return;
    }
    const stream = this.streams.get(id);
    if (stream !== undefined) {
      stream.finish(buffer.readUInt32BE(start), 'reset_remote');
      return;
    }
    if (this.isIdle(id)) throw protocolError(`RST_STREAM on idle stream ${id}`);
  }

  private onSettings(flags: number, id: number, payload: Buffer): void {
    if (id !== 0) throw protocolError('SETTINGS on a stream');
    if ((flags & FLAG_ACK) !== 0) {
      if (payload.length !== 0)
        throw new H2ConnectionError(FRAME_SIZE_ERROR, 'SETTINGS ACK with payload');
      if (this.settingsTimer !== undefined) clearTimeout(this.settingsTimer);
      this.settingsTimer = undefined;
      this.localSettingsAcked = true;
      return;
    }
    if (payload.length % 6 !== 0) throw new H2ConnectionError(FRAME_SIZE_ERROR, 'SETTINGS length');
    if (this.settingsRate.hit()) {
      this.abuse('settings_flood');
      return;
    }
    const remote = this.remote;
    for (let off = 0; off < payload.length; off += 6) {
      const value = payload.readUInt32BE(off + 2);
      switch (payload.readUInt16BE(off)) {
        case SETTINGS_HEADER_TABLE_SIZE:
          remote.headerTableSize = value;
          break;
        case SETTINGS_ENABLE_PUSH:
          if (value > 1) throw protocolError('SETTINGS_ENABLE_PUSH above 1');
          if (value === 1 && this.role === 'client') throw protocolError('server enabled push');
          remote.enablePush = value === 1;
          break;
        case SETTINGS_MAX_CONCURRENT_STREAMS:
          remote.maxConcurrentStreams = value;
          break;
        case SETTINGS_INITIAL_WINDOW_SIZE:
          this.setRemoteInitialWindow(value);
          break;
        case SETTINGS_MAX_FRAME_SIZE:
          if (value < MIN_MAX_FRAME_SIZE || value > MAX_MAX_FRAME_SIZE) {
            throw protocolError(`SETTINGS_MAX_FRAME_SIZE ${value}`);
          }
          remote.maxFrameSize = value;
          break;
        case SETTINGS_MAX_HEADER_LIST_SIZE:
          remote.maxHeaderListSize = value;
          break;
        default:
        // §6.5.2: unknown settings are ignored.
      }
    }
    const tableSize = Math.min(remote.headerTableSize, ENCODER_TABLE_CAP);
    if (tableSize !== this.encoderTableSize) {
      this.encoderTableSize = tableSize;
      this.encoder.setMaxTableSize(tableSize);
    }
    this.writer.settings(true, []);
    const first = !this.settingsReceived;
    this.settingsReceived = true;
    this.openPending();
    this.events.onRemoteSettings?.(remote, first);
  }

  /** §6.9.2: a new SETTINGS_INITIAL_WINDOW_SIZE moves every stream's send window. */
  private setRemoteInitialWindow(value: number): void {
    if (value > MAX_WINDOW) {
      throw new H2ConnectionError(FLOW_CONTROL_ERROR, 'SETTINGS_INITIAL_WINDOW_SIZE above 2^31-1');
    }
    const delta = value - this.remote.initialWindowSize;
    this.remote.initialWindowSize = value;
    if (delta === 0) return;
    for (const stream of this.streams.values()) {
      if (!stream.adjustSendWindow(delta)) {
        throw new H2ConnectionError(FLOW_CONTROL_ERROR, 'a stream window went above 2^31-1');
      }
    }
  }

  private onPing(flags: number, id: number, payload: Buffer): void {
    if (id !== 0) throw protocolError('PING on a stream');
    if (payload.length !== 8) throw new H2ConnectionError(FRAME_SIZE_ERROR, 'PING length');
    if ((flags & FLAG_ACK) !== 0) {
      if (payload.readUInt32BE(0) !== 0) return;
      const pingId = payload.readUInt32BE(4);
      const pings = this.pings;
      for (let i = 0; i < pings.length; i++) {
        const ping = pings[i];
        if (ping !== undefined && ping.id >>> 0 === pingId) {
          pings.splice(i, 1);
          ping.callback(null);
          return;
        }
      }
      return;
    }
    if (this.pingRate.hit()) {
      this.abuse('ping_flood');
      return;
    }
    this.writer.ping(true, payload);
  }

  private onGoaway(id: number, payload: Buffer): void {
    if (id !== 0) throw protocolError('GOAWAY on a stream');
    if (payload.length < 8) throw new H2ConnectionError(FRAME_SIZE_ERROR, 'GOAWAY length');
    let last = payload.readUInt32BE(0) & 0x7fffffff;
    const code = payload.readUInt32BE(4);
    const debugData = Buffer.from(payload.subarray(8));
    if (this.goawayRecv !== undefined && last > this.goawayRecv.lastStreamId) {
      last = this.goawayRecv.lastStreamId;
    }
    this.goawayRecv = { code, lastStreamId: last };
    this.events.onGoaway?.(code, last, debugData);
    if (code !== NO_ERROR) {
      this.errorCode = code;
      const detail = debugData.length > 0 ? `: ${debugData.toString('latin1')}` : '';
      this.reportError(new H2ConnectionError(code, `peer sent GOAWAY${detail}`));
    }
    const localParity = this.role === 'client' ? 1 : 0;
    for (const stream of this.streams.values()) {
      if ((stream.sid & 1) === localParity && stream.sid > last) {
        stream.finish(REFUSED_STREAM, 'refused');
      }
    }
    this.refusePending();
    if (code !== NO_ERROR && this.role === 'client') {
      // A GOAWAY with an error code ends the connection (§6.8: the peer hit a
      // connection error): the streams it did take are lost now, rather than
      // left waiting for a peer that will not answer them (node:http2 does
      // the same). The server role keeps draining, as before.
      this.destroy(new H2ConnectionError(code, 'peer sent GOAWAY'), NO_ERROR);
      return;
    }
    this.maybeEnd();
  }

  private onWindowUpdate(id: number, buffer: Buffer, start: number, end: number): void {
    if (end - start !== 4) throw new H2ConnectionError(FRAME_SIZE_ERROR, 'WINDOW_UPDATE length');
    const increment = buffer.readUInt32BE(start) & 0x7fffffff;
    if (id === 0) {
      if (increment === 0) throw protocolError('WINDOW_UPDATE of 0 on the connection');
      const window = this.sendWindow + increment;
      if (window > MAX_WINDOW) {
        throw new H2ConnectionError(FLOW_CONTROL_ERROR, 'connection window above 2^31-1');
      }
      this.sendWindow = window;
      if (this.ready.length > 0) this.writer.schedule();
      return;
    }
    const stream = this.streams.get(id);
    if (stream !== undefined) stream.receiveWindowUpdate(increment);
    else if (this.isIdle(id)) throw protocolError(`WINDOW_UPDATE on idle stream ${id}`);
  }

  // ---------------------------------------------------------- errors, ending

  private onFrameError(error: unknown): void {
    if (error instanceof H2StreamError) {
      const stream = this.streams.get(error.streamId);
      if (stream === undefined) this.sendReset(error.streamId, error.code);
      else stream.reset(error.code);
      return;
    }
    if (error instanceof H2ConnectionError) {
      this.connectionError(error);
      return;
    }
    // A handler threw: the connection cannot be trusted to be in a known state.
    const cause = error instanceof Error ? error : new Error(String(error));
    this.reportError(cause);
    this.connectionError(new H2ConnectionError(INTERNAL_ERROR, cause.message));
  }

  private abuse(kind: AbuseKind): void {
    if (this.dead) return;
    this.events.onAbuse?.(kind);
    this.connectionError(new H2ConnectionError(ENHANCE_YOUR_CALM, kind));
  }

  private countEmpty(): void {
    if (++this.emptyRun > this.maxEmptyFrames) this.abuse('empty_frames');
  }

  /** GOAWAY(code), every stream lost, the socket ended (destroyed if the peer lingers). */
  private connectionError(error: H2ConnectionError): void {
    if (this.dead) return;
    this.dead = true;
    this.reader.stopped = true;
    this.errorCode = error.code;
    const debug = Buffer.from(error.message.slice(0, 256), 'latin1');
    this.writer.goaway(this.lastPeerStreamId, error.code, debug);
    this.writer.end();
    this.writer.flush();
    setTimeout(() => this.socket.destroy(), ERROR_LINGER_MS).unref();
    this.reportError(error);
    this.failStreams(error);
  }

  private reportError(error: Error): void {
    if (this.errorReported) return;
    this.errorReported = true;
    this.events.onError?.(error);
  }

  /**
   * Every stream closes as lost (queued client streams as refused; all of them
   * when the socket never connected, so the peer processed none); pings fail.
   * A peer that accepted the connection and died before its SETTINGS may
   * have read our HEADERS: those streams are lost, not refused (as on
   * node:http2), so nobody replays a request the peer may have acted on.
   */
  private failStreams(error: Error): void {
    if (this.settingsReceived || this.peerReachable) {
      const code = this.errorCode === NO_ERROR ? CANCEL : this.errorCode;
      for (const stream of this.streams.values()) stream.finish(code, 'connection_lost');
    } else {
      for (const stream of this.streams.values()) stream.finish(REFUSED_STREAM, 'refused');
    }
    this.refusePending();
    const pings = this.pings.splice(0);
    for (const ping of pings) ping.callback(error);
  }

  private refusePending(): void {
    for (let s = this.pendingOpen.shift(); s !== undefined; s = this.pendingOpen.shift()) {
      s.finish(REFUSED_STREAM, 'refused');
    }
  }

  /** After close() or a GOAWAY received: end the socket once no stream is left. */
  private maybeEnd(): void {
    if (this.dead || (!this.closing && this.goawayRecv === undefined)) return;
    if (this.streams.size > 0 || this.pendingOpen.length > 0) return;
    this.dead = true;
    this.reader.stopped = true;
    this.writer.end();
  }

  private closeNow(): void {
    if (this.socketClosed) return;
    this.socketClosed = true;
    this.dead = true;
    this.reader.stopped = true;
    this.writer.close();
    if (this.settingsTimer !== undefined) clearTimeout(this.settingsTimer);
    this.settingsTimer = undefined;
    // The error first, so a stream's handler can say why it closed.
    if (this.socketError !== undefined) this.reportError(this.socketError);
    this.failStreams(this.socketError ?? new Error('connection closed'));
    this.events.onClose?.();
  }

  // ------------------------------------------------------------- streams

  /** Peer-initiated ids above the last one seen, and our ids not used yet, are idle (§5.1). */
  private isIdle(id: number): boolean {
    const peerParity = this.role === 'server' ? 1 : 0;
    if ((id & 1) === peerParity) return id > this.lastPeerStreamId;
    return id >= this.nextStreamId;
  }

  /**
   * A new stream's receive window: ours, but not below the protocol's initial
   * window before the peer has acknowledged our SETTINGS (§6.9.2: until then it
   * may count on 65535).
   */
  private recvInitialWindow(): number {
    const window = this.local.initialWindowSize;
    return this.localSettingsAcked || window >= DEFAULT_WINDOW ? window : DEFAULT_WINDOW;
  }

  /** A peer stream id is used: ids it skipped are remembered (a few ranges) for §5.1.1. */
  private notePeerStream(id: number): void {
    if (id <= this.lastPeerStreamId) return;
    if (id > this.lastPeerStreamId + 2) {
      const ranges = this.skippedRanges;
      if (ranges.length >= SKIPPED_RANGES * 2) ranges.splice(0, 2);
      ranges.push(this.lastPeerStreamId + 2, id - 2);
    }
    this.lastPeerStreamId = id;
  }

  /** The peer never used `id` but has used a higher one. */
  private wasSkipped(id: number): boolean {
    const ranges = this.skippedRanges;
    for (let i = 0; i < ranges.length; i += 2) {
      if (id >= (ranges[i] ?? 0) && id <= (ranges[i + 1] ?? 0)) return true;
    }
    return false;
  }

  private sendReset(id: number, code: number): void {
    this.writer.rstStream(id, code);
    this.rememberReset(id);
  }

  private rememberReset(id: number): void {
    const ring = this.resetRing;
    if (ring.length < RESET_MEMORY) {
      ring.push(id);
    } else {
      this.resetIds.delete(ring[this.resetRingPos] ?? 0);
      ring[this.resetRingPos] = id;
      this.resetRingPos = (this.resetRingPos + 1) % RESET_MEMORY;
    }
    this.resetIds.add(id);
  }

  /**
   * Client role: how many streams may be open. Before the peer's SETTINGS
   * arrive its limit is unknown: at most `options.peerMaxConcurrentStreams`.
   */
  private streamLimit(): number {
    const limit = this.remote.maxConcurrentStreams;
    return this.settingsReceived ? limit : Math.min(limit, this.initialStreamLimit);
  }

  /** Client role: open queued streams while the peer's MAX_CONCURRENT_STREAMS allows. */
  private openPending(): void {
    const pending = this.pendingOpen;
    while (!this.dead && this.streams.size < this.streamLimit()) {
      const stream = pending.shift();
      if (stream === undefined) return;
      this.openLocal(stream);
    }
  }

  /** Client role: gives `stream` an id and sends its request HEADERS. */
  private openLocal(stream: H2Stream): void {
    const id = this.nextStreamId;
    if (id > MAX_STREAM_ID) {
      stream.finish(REFUSED_STREAM, 'refused');
      return;
    }
    this.nextStreamId = id + 2;
    const head = stream.pendingHead ?? [];
    stream.pendingHead = undefined;
    stream.start(id, this.remote.initialWindowSize, this.recvInitialWindow());
    this.streams.set(id, stream);
    stream.headSent = true;
    const endStream = stream.headEndsStream();
    this.writeHeaderBlock(id, head, endStream ? FLAG_END_STREAM : 0);
    if (endStream) stream.endSent = true;
    else if (stream.canSend()) this.streamReady(stream);
  }

  /** @internal HPACK-encodes `fields` and writes HEADERS (+CONTINUATION). */
  writeHeaderBlock(id: number, fields: HeaderFields, flags: number): void {
    if (this.dead) return;
    const encoder = this.encoder;
    encoder.encodeInPlace(fields);
    this.writer.headers(
      id,
      flags,
      encoder.blockBuffer,
      encoder.blockFrom,
      encoder.blockTo,
      this.remote.maxFrameSize,
    );
    encoder.rewind();
  }

  /** @internal The stream has something to send: into the pump's list. */
  streamReady(stream: H2Stream): void {
    if (stream.inReady || this.dead) return;
    stream.inReady = true;
    this.ready.push(stream);
    this.writer.schedule();
  }

  /** @internal The stream resets itself: RST_STREAM, or off the queue if it had no id yet. */
  streamReset(stream: H2Stream, code: number): void {
    if (stream.sid === 0) {
      const i = this.pendingOpen.indexOf(stream);
      if (i >= 0) this.pendingOpen.splice(i, 1);
      return;
    }
    if (!this.dead) this.sendReset(stream.sid, code);
  }

  /** @internal The stream has closed. */
  streamClosed(stream: H2Stream): void {
    if (stream.sid === 0 || this.streams.get(stream.sid) !== stream) return;
    this.streams.delete(stream.sid);
    if (this.dead) return;
    if (this.pendingOpen.length > 0) this.openPending();
    this.maybeEnd();
  }

  /** @internal Both sides ended during the pump: onClose after the write. */
  deferComplete(stream: H2Stream): void {
    this.completed.push(stream);
    this.writer.schedule();
  }

  /** @internal The stream's buffer fell to the low-water mark: onWritable after the write. */
  deferWritable(stream: H2Stream): void {
    this.writable.push(stream);
  }

  // ------------------------------------------------------------ WriterOwner

  /** @internal Moves DATA (and the ends that follow it) from ready streams into the writer. */
  pump(): boolean {
    let list = this.ready;
    if (list.length === 0 || this.dead || this.writer.blocked) return false;
    const writer = this.writer;
    const maxFrame = this.remote.maxFrameSize;
    let budget = PUMP_BUDGET;
    let progress = true;
    while (progress && list.length > 0 && budget > 0) {
      progress = false;
      const next = this.spare;
      for (let i = 0; i < list.length; i++) {
        const stream = list[i];
        if (stream === undefined) continue;
        if (budget > 0 && !stream.isClosed) {
          const before = writer.queued;
          const sent = stream.sendNext(writer, Math.min(this.sendWindow, maxFrame));
          this.sendWindow -= sent;
          const wrote = writer.queued - before;
          if (wrote > 0) {
            progress = true;
            budget -= wrote;
          }
        }
        if (stream.canSend()) next.push(stream);
        else stream.inReady = false;
      }
      list.length = 0;
      this.spare = list;
      list = next;
    }
    this.ready = list;
    return list.length > 0 && budget <= 0;
  }

  /** @internal Runs what the pump deferred: completions, then onWritable. */
  afterFlush(): void {
    if (this.completed.length > 0) {
      const list = this.completed;
      this.completed = this.completedSpare;
      for (const stream of list) stream.finish(NO_ERROR, 'complete');
      list.length = 0;
      this.completedSpare = list;
    }
    if (this.writable.length > 0) {
      const list = this.writable;
      this.writable = this.writableSpare;
      for (const stream of list) if (!stream.isClosed) stream.handler.onWritable();
      list.length = 0;
      this.writableSpare = list;
    }
  }

  /** @internal */
  onDrain(): void {
    if (this.ready.length > 0) this.writer.schedule();
  }
}

/** DATA with PADDED: the payload between the pad length byte and the padding (§6.1). */
function unpad(payload: Buffer): Buffer {
  if (payload.length < 1) throw new H2ConnectionError(FRAME_SIZE_ERROR, 'PADDED DATA too short');
  const pad = payload[0] ?? 0;
  if (pad >= payload.length) throw protocolError('padding as long as the frame');
  return payload.subarray(1, payload.length - pad);
}
