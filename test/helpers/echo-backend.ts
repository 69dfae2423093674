/**
 * A real grpc-js server implementing `switchyard.test.Echo` on 127.0.0.1:0 (or the given host and port),
 * for integration tests. Every reply names the backend that produced it, and
 * the backend counts calls and reports cancellations.
 *
 * Behaviour (see echo.proto):
 * - request metadata keys starting with `x-echo-` come back as response
 *   initial metadata under the same key, and as trailing metadata with
 *   `-trailer` inserted before any `-bin` suffix
 *   (`x-echo-foo` → `x-echo-foo-trailer`, `x-echo-raw-bin` → `x-echo-raw-trailer-bin`);
 * - `fail_code != 0` makes the call fail with that code, `fail_message` as the
 *   status message and `fail_details` (when non-empty) as `grpc-status-details-bin`.
 *   With no `x-echo-` metadata and nothing sent yet, that is a trailers-only response;
 * - Unary echoes message and payload (or `reply_size` bytes when set), after
 *   `delayMs` when the backend was started with one;
 * - ServerStream sends `count` replies of `reply_size` bytes, honouring backpressure,
 *   then fails if asked to;
 * - ClientStream sums the payload bytes of all requests and replies once;
 * - Bidi replies to each request as it arrives.
 */
import { EventEmitter, once } from 'node:events';
import * as grpc from '@grpc/grpc-js';
import {
  echoServerMethods,
  type EchoMethodName,
  type EchoReplyInit,
  type EchoRequest,
} from './echo-proto.js';
import type { ExtraService } from './health-backend.js';

export const MAX_MESSAGE_BYTES = 64 * 1024 * 1024;

export const STATUS_DETAILS_KEY = 'grpc-status-details-bin';

export interface CancelledCall {
  readonly backend: string;
  readonly method: EchoMethodName;
}

export interface BackendEvents {
  /** A call on this backend was cancelled by the client (or the proxy). */
  cancelled: [CancelledCall];
  /** A call started; carries its request metadata. */
  call: [EchoMethodName, grpc.Metadata];
}

export interface EchoBackend {
  readonly id: string;
  readonly port: number;
  /** `HOST:PORT` (`127.0.0.1:PORT` unless started with another host) */
  readonly address: string;
  /** Calls this backend has started serving. */
  readonly calls: number;
  /** Calls this backend saw cancelled. */
  readonly cancellations: number;
  /** Request metadata of the most recent call. */
  readonly lastMetadata: grpc.Metadata | undefined;
  /** Emits `cancelled` and `call` (see BackendEvents). */
  readonly events: EventEmitter<BackendEvents>;
  /** Resolves with the next cancellation seen after this call. */
  onCancelled(): Promise<CancelledCall>;
  /** Stops the server, cutting calls still in flight. Idempotent. */
  close(): Promise<void>;
}

/** The reply-side name for an echoed request key (see the file comment). */
export function trailerKey(key: string): string {
  return key.endsWith('-bin') ? `${key.slice(0, -'-bin'.length)}-trailer-bin` : `${key}-trailer`;
}

function echoedMetadata(request: grpc.Metadata): {
  initial: grpc.Metadata;
  trailing: grpc.Metadata;
  any: boolean;
} {
  const initial = new grpc.Metadata();
  const trailing = new grpc.Metadata();
  let any = false;
  for (const key of Object.keys(request.getMap())) {
    if (!key.startsWith('x-echo-')) continue;
    for (const value of request.get(key)) {
      any = true;
      initial.add(key, value);
      trailing.add(trailerKey(key), value);
    }
  }
  return { initial, trailing, any };
}

const STATUS_BY_CODE = new Map<number, grpc.status>(
  Object.values(grpc.status)
    .filter((value): value is grpc.status => typeof value === 'number')
    .map((value): [number, grpc.status] => [value, value]),
);

/** The grpc status with this numeric code (any integer 0..16). */
export function statusCode(code: number): grpc.status {
  const found = STATUS_BY_CODE.get(code);
  if (found === undefined) throw new RangeError(`not a gRPC status code: ${code}`);
  return found;
}

function failure(request: EchoRequest, trailing: grpc.Metadata): grpc.ServerErrorResponse {
  const metadata = trailing.clone();
  if (request.failDetails.length > 0) metadata.set(STATUS_DETAILS_KEY, request.failDetails);
  return Object.assign(new Error(request.failMessage), {
    code: statusCode(request.failCode),
    details: request.failMessage,
    metadata,
  });
}

function replyPayload(request: EchoRequest): Buffer {
  return request.replySize > 0 ? Buffer.alloc(request.replySize, 0x61) : request.payload;
}

/** What every server call shape has (grpc-js does not export its ServerSurfaceCall). */
interface SurfaceCall {
  readonly metadata: grpc.Metadata;
  on(event: 'cancelled', listener: () => void): unknown;
}

/**
 * Runs `fn` once the client half-closed. node:http2 also ends the readable side
 * when the stream is reset, and grpc-js reports that as a half-close just before
 * it reports the cancellation (both within the same event-loop turn), so `fn`
 * runs on the next turn: by then a reset has shown up as 'cancelled'.
 */
function afterHalfClose(call: NodeJS.EventEmitter, fn: () => void): void {
  call.on('end', () => {
    setImmediate(fn);
  });
}

interface CallContext {
  /** Aborted when the call is cancelled. */
  readonly signal: AbortSignal;
  /** Whether the call was cancelled or its handler finished it. */
  readonly finished: boolean;
  /** Marks the call done; false when it was already cancelled or finished. */
  finish(): boolean;
}

export interface EchoBackendOptions {
  /** Unary replies (and failures) are sent this much later; default 0: at once. */
  readonly delayMs?: number;
  /** Address to bind; default 127.0.0.1. Any 127.x.y.z works on Linux without set-up. */
  readonly host?: string;
  /** Port to bind; default 0 (any free port). */
  readonly port?: number;
  /** More services on the same server (e.g. a `HealthControl`). */
  readonly services?: readonly ExtraService[];
  /**
   * Unary and ServerStream calls fail with this gRPC code as if each request
   * set `fail_code` (ServerStream after its `count` replies); default 0: only when asked.
   */
  readonly failCode?: number;
  /** Server credentials (e.g. `grpc.ServerCredentials.createSsl(...)`); default: insecure (h2c). */
  readonly credentials?: grpc.ServerCredentials;
}

/** The request as handled: the backend's `failCode` applies when the request asks for none. */
function withFailure(request: EchoRequest, failCode: number): EchoRequest {
  if (failCode === 0 || request.failCode !== 0) return request;
  return { ...request, failCode, failMessage: `failing every call with code ${failCode}` };
}

export async function startEchoBackend(
  id: string,
  options: EchoBackendOptions = {},
): Promise<EchoBackend> {
  const delayMs = options.delayMs ?? 0;
  const failCode = options.failCode ?? 0;
  const host = options.host ?? '127.0.0.1';
  const events = new EventEmitter<BackendEvents>();
  let calls = 0;
  let cancellations = 0;
  let lastMetadata: grpc.Metadata | undefined;

  /**
   * Counts the call and reports its cancellation. grpc-js also emits
   * 'cancelled' after a call it finished normally, so handlers call `finish()`
   * before sending their status and only earlier cancellations are reported.
   */
  function begin(method: EchoMethodName, call: SurfaceCall): CallContext {
    calls += 1;
    lastMetadata = call.metadata;
    const abort = new AbortController();
    let finished = false;
    call.on('cancelled', () => {
      if (finished) return;
      finished = true;
      cancellations += 1;
      abort.abort();
      events.emit('cancelled', { backend: id, method });
    });
    events.emit('call', method, call.metadata);
    return {
      signal: abort.signal,
      get finished() {
        return finished;
      },
      finish: () => {
        if (finished) return false;
        finished = true;
        return true;
      },
    };
  }

  const implementation = {
    Unary(
      call: grpc.ServerUnaryCall<EchoRequest, EchoReplyInit>,
      callback: grpc.sendUnaryData<EchoReplyInit>,
    ): void {
      const ctx = begin('Unary', call);
      const request = withFailure(call.request, failCode);
      const { initial, trailing, any } = echoedMetadata(call.metadata);
      if (any) call.sendMetadata(initial);
      const reply = (): void => {
        if (!ctx.finish()) return;
        if (request.failCode !== 0) {
          callback(failure(request, trailing));
          return;
        }
        callback(
          null,
          { message: request.message, payload: replyPayload(request), backend: id },
          trailing,
        );
      };
      if (delayMs > 0) setTimeout(reply, delayMs);
      else reply();
    },

    ServerStream(call: grpc.ServerWritableStream<EchoRequest, EchoReplyInit>): void {
      const ctx = begin('ServerStream', call);
      const request = withFailure(call.request, failCode);
      const { initial, trailing, any } = echoedMetadata(call.metadata);
      if (any) call.sendMetadata(initial);
      const payload = request.replySize > 0 ? Buffer.alloc(request.replySize, 0x62) : undefined;
      const send = async (): Promise<void> => {
        for (let index = 0; index < request.count; index++) {
          if (ctx.signal.aborted) return;
          const reply: EchoReplyInit = { message: request.message, backend: id, index };
          if (payload !== undefined) reply.payload = payload;
          if (!call.write(reply)) await once(call, 'drain', { signal: ctx.signal });
        }
        if (!ctx.finish()) return;
        if (request.failCode !== 0) call.emit('error', failure(request, trailing));
        else call.end(trailing);
      };
      send().catch((error: unknown) => {
        // An abort is the cancellation already reported; anything else is a bug here.
        if (ctx.signal.aborted) return;
        ctx.finish();
        call.emit('error', error);
      });
    },

    ClientStream(
      call: grpc.ServerReadableStream<EchoRequest, EchoReplyInit>,
      callback: grpc.sendUnaryData<EchoReplyInit>,
    ): void {
      const ctx = begin('ClientStream', call);
      const { initial, trailing, any } = echoedMetadata(call.metadata);
      if (any) call.sendMetadata(initial);
      let totalBytes = 0;
      let count = 0;
      let last: EchoRequest | undefined;
      call.on('data', (request: EchoRequest) => {
        totalBytes += request.payload.length;
        count += 1;
        last = request;
      });
      afterHalfClose(call, () => {
        if (!ctx.finish()) return;
        if (last !== undefined && last.failCode !== 0) {
          callback(failure(last, trailing));
          return;
        }
        callback(
          null,
          { message: last?.message ?? '', backend: id, index: count, totalBytes },
          trailing,
        );
      });
    },

    Bidi(call: grpc.ServerDuplexStream<EchoRequest, EchoReplyInit>): void {
      const ctx = begin('Bidi', call);
      const { initial, trailing, any } = echoedMetadata(call.metadata);
      if (any) call.sendMetadata(initial);
      let index = 0;
      call.on('data', (request: EchoRequest) => {
        if (ctx.finished) return;
        if (request.failCode !== 0) {
          if (ctx.finish()) call.emit('error', failure(request, trailing));
          return;
        }
        call.write({
          message: request.message,
          payload: replyPayload(request),
          backend: id,
          index: index++,
        });
      });
      afterHalfClose(call, () => {
        if (ctx.finish()) call.end(trailing);
      });
    },
  };

  const server = new grpc.Server({
    'grpc.max_receive_message_length': MAX_MESSAGE_BYTES,
    'grpc.max_send_message_length': MAX_MESSAGE_BYTES,
  });
  server.addService(echoServerMethods, implementation);
  for (const extra of options.services ?? []) {
    server.addService(extra.definition, extra.implementation);
  }

  const port = await new Promise<number>((resolve, reject) => {
    server.bindAsync(
      `${host}:${options.port ?? 0}`,
      options.credentials ?? grpc.ServerCredentials.createInsecure(),
      (error, bound) => {
        if (error === null) resolve(bound);
        else reject(error);
      },
    );
  });

  let closed = false;
  return {
    id,
    port,
    address: `${host}:${port}`,
    get calls() {
      return calls;
    },
    get cancellations() {
      return cancellations;
    },
    get lastMetadata() {
      return lastMetadata;
    },
    events,
    onCancelled: () =>
      new Promise<CancelledCall>((resolve) => {
        events.once('cancelled', resolve);
      }),
    close: () => {
      if (!closed) {
        closed = true;
        server.forceShutdown();
      }
      return Promise.resolve();
    },
  };
}
