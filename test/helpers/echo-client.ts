/**
 * A typed grpc-js client for `switchyard.test.Echo` (insecure, 64 MiB message
 * limits) with promise helpers. Failures surface as the grpc-js `ServiceError`
 * itself, so tests can check `code`, `details` and `metadata` (the trailers).
 */
import * as grpc from '@grpc/grpc-js';
import { MAX_MESSAGE_BYTES } from './echo-backend.js';
import {
  echoClientMethods,
  echoMethodPath,
  type EchoReply,
  type EchoRequestInit,
} from './echo-proto.js';

export interface EchoClientOptions {
  /** Extra grpc-js channel options, merged over the defaults. */
  readonly channelOptions?: grpc.ChannelOptions;
  /** Channel credentials; default: insecure (h2c). */
  readonly credentials?: grpc.ChannelCredentials;
}

export interface UnaryResult {
  readonly reply: EchoReply;
  /** Response initial metadata (empty if none arrived). */
  readonly headers: grpc.Metadata;
  /** Trailing metadata (grpc-status and grpc-message removed by grpc-js). */
  readonly trailers: grpc.Metadata;
  readonly status: grpc.StatusObject;
}

export interface StreamResult {
  readonly replies: EchoReply[];
  readonly headers: grpc.Metadata;
  readonly trailers: grpc.Metadata;
  readonly status: grpc.StatusObject;
}

export type EchoReadable =
  grpc.ClientReadableStream<EchoReply> | grpc.ClientDuplexStream<EchoRequestInit, EchoReply>;

export function isServiceError(value: unknown): value is grpc.ServiceError {
  return (
    value instanceof Error &&
    'code' in value &&
    typeof value.code === 'number' &&
    'details' in value &&
    typeof value.details === 'string' &&
    'metadata' in value &&
    value.metadata instanceof grpc.Metadata
  );
}

/** Awaits a promise that must reject with a ServiceError, and returns the error. */
export async function serviceError(promise: Promise<unknown>): Promise<grpc.ServiceError> {
  try {
    await promise;
  } catch (error: unknown) {
    if (isServiceError(error)) return error;
    throw error;
  }
  throw new Error('expected the call to fail, but it succeeded');
}

/**
 * Reads a response stream to its end: resolves once both the last message and
 * an OK status arrived; rejects with the ServiceError on a non-OK status.
 */
export function collect(stream: EchoReadable): Promise<StreamResult> {
  return new Promise<StreamResult>((resolve, reject) => {
    const replies: EchoReply[] = [];
    let headers = new grpc.Metadata();
    let status: grpc.StatusObject | undefined;
    let ended = false;
    const done = (): void => {
      if (ended && status !== undefined) {
        resolve({ replies, headers, trailers: status.metadata, status });
      }
    };
    stream.on('metadata', (metadata: grpc.Metadata) => {
      headers = metadata;
    });
    stream.on('data', (reply: EchoReply) => {
      replies.push(reply);
    });
    stream.on('error', reject);
    stream.on('end', () => {
      ended = true;
      done();
    });
    stream.on('status', (received: grpc.StatusObject) => {
      status = received;
      done();
    });
    // A stream paused by nextReply() stays paused when a 'data' listener is added.
    stream.resume();
  });
}

/** Resolves with the next message on a stream (rejects if it ends or fails first). */
export function nextReply(stream: EchoReadable): Promise<EchoReply> {
  return new Promise<EchoReply>((resolve, reject) => {
    const cleanup = (): void => {
      stream.off('data', onData);
      stream.off('error', onError);
      stream.off('end', onEnd);
    };
    const onData = (reply: EchoReply): void => {
      cleanup();
      stream.pause();
      resolve(reply);
    };
    const onError = (error: Error): void => {
      cleanup();
      reject(error);
    };
    const onEnd = (): void => {
      cleanup();
      reject(new Error('stream ended before the next reply'));
    };
    stream.on('data', onData);
    stream.on('error', onError);
    stream.on('end', onEnd);
    stream.resume();
  });
}

/**
 * Starts a call with a single response and gathers its outcome: resolves once
 * both the reply and the status arrived; rejects with the ServiceError.
 */
function trackUnary<C extends grpc.ClientUnaryCall | grpc.ClientWritableStream<EchoRequestInit>>(
  start: (callback: grpc.requestCallback<EchoReply>) => C,
): { call: C; result: Promise<UnaryResult> } {
  let resolve: (result: UnaryResult) => void = () => undefined;
  let reject: (error: grpc.ServiceError) => void = () => undefined;
  const result = new Promise<UnaryResult>((res, rej) => {
    resolve = res;
    reject = rej;
  });
  let headers = new grpc.Metadata();
  let reply: EchoReply | undefined;
  let status: grpc.StatusObject | undefined;
  const done = (): void => {
    if (reply !== undefined && status !== undefined) {
      resolve({ reply, headers, trailers: status.metadata, status });
    }
  };
  const call = start((error, value) => {
    if (error !== null) {
      reject(error);
      return;
    }
    reply = value;
    done();
  });
  call.on('metadata', (received: grpc.Metadata) => {
    headers = received;
  });
  call.on('status', (received: grpc.StatusObject) => {
    status = received;
    done();
  });
  return { call, result };
}

export class EchoClient {
  readonly raw: grpc.Client;

  constructor(address: string, options: EchoClientOptions = {}) {
    this.raw = new grpc.Client(address, options.credentials ?? grpc.credentials.createInsecure(), {
      'grpc.max_receive_message_length': MAX_MESSAGE_BYTES,
      'grpc.max_send_message_length': MAX_MESSAGE_BYTES,
      ...options.channelOptions,
    });
  }

  /** Calls `/switchyard.test.Echo/Unary`. */
  unary(
    request: EchoRequestInit,
    metadata: grpc.Metadata = new grpc.Metadata(),
    options: grpc.CallOptions = {},
  ): Promise<UnaryResult> {
    return this.unaryAt(echoMethodPath('Unary'), request, metadata, options);
  }

  /** A unary call with Echo's message types on any path (e.g. an unknown method). */
  unaryAt(
    path: string,
    request: EchoRequestInit,
    metadata: grpc.Metadata = new grpc.Metadata(),
    options: grpc.CallOptions = {},
  ): Promise<UnaryResult> {
    const method = echoClientMethods.Unary;
    return trackUnary((callback) =>
      this.raw.makeUnaryRequest(
        path,
        method.requestSerialize,
        method.responseDeserialize,
        request,
        metadata,
        options,
        callback,
      ),
    ).result;
  }

  /** Starts `/switchyard.test.Echo/ServerStream`; read it with `collect`. */
  serverStream(
    request: EchoRequestInit,
    metadata: grpc.Metadata = new grpc.Metadata(),
    options: grpc.CallOptions = {},
  ): grpc.ClientReadableStream<EchoReply> {
    const method = echoClientMethods.ServerStream;
    return this.raw.makeServerStreamRequest(
      method.path,
      method.requestSerialize,
      method.responseDeserialize,
      request,
      metadata,
      options,
    );
  }

  /**
   * Starts `/switchyard.test.Echo/ClientStream`: write requests to `call`, end
   * it, and await `result`.
   */
  clientStream(
    metadata: grpc.Metadata = new grpc.Metadata(),
    options: grpc.CallOptions = {},
  ): { call: grpc.ClientWritableStream<EchoRequestInit>; result: Promise<UnaryResult> } {
    const method = echoClientMethods.ClientStream;
    return trackUnary((callback) =>
      this.raw.makeClientStreamRequest(
        method.path,
        method.requestSerialize,
        method.responseDeserialize,
        metadata,
        options,
        callback,
      ),
    );
  }

  /** Starts `/switchyard.test.Echo/Bidi`. */
  bidi(
    metadata: grpc.Metadata = new grpc.Metadata(),
    options: grpc.CallOptions = {},
  ): grpc.ClientDuplexStream<EchoRequestInit, EchoReply> {
    const method = echoClientMethods.Bidi;
    return this.raw.makeBidiStreamRequest(
      method.path,
      method.requestSerialize,
      method.responseDeserialize,
      metadata,
      options,
    );
  }

  close(): void {
    this.raw.close();
  }
}

export function echoClient(address: string, options?: EchoClientOptions): EchoClient {
  return new EchoClient(address, options);
}
