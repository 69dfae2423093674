/**
 * Test helpers for the engine tests: an H2Connection server on a real
 * net.Server (127.0.0.1, port 0), an echoing stream handler, a handler that
 * collects what a stream receives, and small promise helpers.
 */
import { once } from 'node:events';
import * as net from 'node:net';
import type { AddressInfo } from 'node:net';
import {
  H2Connection,
  type ConnectionEvents,
  type ConnectionOptions,
} from '../../../src/h2/h2-connection.js';
import type { H2Stream, StreamCloseReason, StreamHandler } from '../../../src/h2/h2-stream.js';
import type { HeaderFields } from '../../../src/h2/header-fields.js';

export interface EngineServer {
  readonly port: number;
  readonly connections: H2Connection[];
  /** Resolves with the next connection accepted. */
  nextConnection(): Promise<H2Connection>;
  close(): Promise<void>;
}

/** An H2Connection (server role) per accepted socket. */
export async function startEngineServer(
  events: ConnectionEvents,
  options: Omit<ConnectionOptions, 'role'> = {},
): Promise<EngineServer> {
  const connections: H2Connection[] = [];
  const waiting: ((connection: H2Connection) => void)[] = [];
  const sockets = new Set<net.Socket>();
  const server = net.createServer((socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
    const connection = new H2Connection(socket, { ...options, role: 'server' }, events);
    connections.push(connection);
    waiting.shift()?.(connection);
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  return {
    port: (server.address() as AddressInfo).port,
    connections,
    nextConnection: () => new Promise((resolve) => waiting.push(resolve)),
    close: async () => {
      for (const socket of sockets) socket.destroy();
      server.close();
      await once(server, 'close');
    },
  };
}

/** Echoes request body and trailers: head on the request head, body as it comes, trailers at the end. */
export class EchoHandler implements StreamHandler {
  readonly stream: H2Stream;
  readonly responseHead: HeaderFields;
  closed: { code: number; reason: StreamCloseReason } | undefined;

  constructor(stream: H2Stream, responseHead: HeaderFields = [':status', '200']) {
    this.stream = stream;
    this.responseHead = responseHead;
    stream.handler = this;
    stream.sendHeaders(responseHead, false);
  }

  onHeaders(fields: HeaderFields): void {
    this.stream.end(fields);
  }

  onData(chunk: Buffer, endStream: boolean): void {
    if (chunk.length > 0 && !this.stream.write(Buffer.from(chunk))) this.stream.pause();
    if (endStream) this.stream.end(['x-echo-end', 'data']);
  }

  onWritable(): void {
    this.stream.resume();
  }

  onClose(code: number, reason: StreamCloseReason): void {
    this.closed = { code, reason };
  }
}

export interface Received {
  heads: HeaderFields[];
  body: Buffer;
  trailers: HeaderFields | undefined;
  code: number;
  reason: StreamCloseReason;
}

/** Collects what a stream receives; `done` resolves at onClose. */
export class CollectHandler implements StreamHandler {
  readonly heads: HeaderFields[] = [];
  readonly chunks: Buffer[] = [];
  trailers: HeaderFields | undefined;
  writableCalls = 0;
  onWritableHook: (() => void) | undefined;
  readonly done: Promise<Received>;
  private resolve!: (received: Received) => void;

  constructor() {
    this.done = new Promise((resolve) => {
      this.resolve = resolve;
    });
  }

  onHeaders(fields: HeaderFields, endStream: boolean): void {
    if (endStream && this.heads.length > 0) this.trailers = fields;
    else this.heads.push(fields);
  }

  onData(chunk: Buffer): void {
    if (chunk.length > 0) this.chunks.push(Buffer.from(chunk));
  }

  onWritable(): void {
    this.writableCalls++;
    this.onWritableHook?.();
  }

  onClose(code: number, reason: StreamCloseReason): void {
    this.resolve({
      heads: this.heads,
      body: Buffer.concat(this.chunks),
      trailers: this.trailers,
      code,
      reason,
    });
  }
}

/** Writes `body` to `stream` in `chunkSize` pieces, honouring write()'s return, then ends it. */
export function writeAll(
  stream: H2Stream,
  handler: CollectHandler,
  body: Buffer,
  chunkSize: number,
  trailers?: HeaderFields,
): void {
  let off = 0;
  const pump = (): void => {
    while (off < body.length) {
      const piece = body.subarray(off, Math.min(off + chunkSize, body.length));
      off += piece.length;
      if (!stream.write(piece)) return;
    }
    stream.end(trailers);
  };
  handler.onWritableHook = pump;
  pump();
}

/** Deterministic pseudo-random bytes. */
export function patternBytes(length: number, seed = 1): Buffer {
  const out = Buffer.allocUnsafe(length);
  let x = seed >>> 0 || 1;
  for (let i = 0; i < length; i++) {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    out[i] = x & 0xff;
  }
  return out;
}

/** A field's value in a flat header list. */
export function field(fields: HeaderFields | undefined, name: string): string | undefined {
  if (fields === undefined) return undefined;
  for (let i = 0; i < fields.length; i += 2) if (fields[i] === name) return fields[i + 1];
  return undefined;
}
