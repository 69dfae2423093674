/**
 * A real grpc-js Echo server whose every call runs a script the test gives:
 * for retry tests, where the n-th call must fail one way and the next
 * succeed. Each call is recorded (method, request metadata, arrival time)
 * before its script runs. Methods without a script answer OK, naming the
 * backend.
 */
import * as grpc from '@grpc/grpc-js';
import { MAX_MESSAGE_BYTES } from './echo-backend.js';
import {
  echoServerMethods,
  type EchoMethodName,
  type EchoReplyInit,
  type EchoRequest,
} from './echo-proto.js';
import type { TestContext } from './context.js';

export interface ScriptedCall {
  readonly method: EchoMethodName;
  readonly metadata: grpc.Metadata;
  /** performance.now() when the call reached the backend. */
  readonly at: number;
  /** 1 for this backend's first call. */
  readonly n: number;
}

export interface Scripts {
  unary?: (
    call: grpc.ServerUnaryCall<EchoRequest, EchoReplyInit>,
    callback: grpc.sendUnaryData<EchoReplyInit>,
    n: number,
  ) => void;
  serverStream?: (call: grpc.ServerWritableStream<EchoRequest, EchoReplyInit>, n: number) => void;
  bidi?: (call: grpc.ServerDuplexStream<EchoRequest, EchoReplyInit>, n: number) => void;
}

export interface ScriptedBackend {
  readonly id: string;
  readonly address: string;
  /** Every call received, in order. */
  readonly calls: readonly ScriptedCall[];
}

/** A gRPC error for a script to return: `code`, `details`, and trailing metadata. */
export function grpcError(
  code: grpc.status,
  details: string,
  trailers: Record<string, string> = {},
): grpc.ServiceError {
  const metadata = new grpc.Metadata();
  for (const [key, value] of Object.entries(trailers)) metadata.set(key, value);
  return Object.assign(new Error(details), { code, details, metadata });
}

/** The value of request metadata `key` of call `n` (1-based), or undefined. */
export function metadataOf(backend: ScriptedBackend, n: number, key: string): string | undefined {
  const value = backend.calls[n - 1]?.metadata.get(key)[0];
  return value === undefined ? undefined : String(value);
}

export async function startScriptedBackend(
  t: TestContext,
  id: string,
  scripts: Scripts,
): Promise<ScriptedBackend> {
  const calls: ScriptedCall[] = [];
  const record = (method: EchoMethodName, metadata: grpc.Metadata): number => {
    calls.push({ method, metadata, at: performance.now(), n: calls.length + 1 });
    return calls.length;
  };
  const implementation: grpc.UntypedServiceImplementation = {
    Unary(
      call: grpc.ServerUnaryCall<EchoRequest, EchoReplyInit>,
      callback: grpc.sendUnaryData<EchoReplyInit>,
    ) {
      const n = record('Unary', call.metadata);
      if (scripts.unary !== undefined) scripts.unary(call, callback, n);
      else callback(null, { message: call.request.message, backend: id });
    },
    ServerStream(call: grpc.ServerWritableStream<EchoRequest, EchoReplyInit>) {
      const n = record('ServerStream', call.metadata);
      if (scripts.serverStream !== undefined) scripts.serverStream(call, n);
      else call.end();
    },
    ClientStream(
      call: grpc.ServerReadableStream<EchoRequest, EchoReplyInit>,
      callback: grpc.sendUnaryData<EchoReplyInit>,
    ) {
      record('ClientStream', call.metadata);
      call.resume();
      call.on('end', () => callback(null, { backend: id }));
    },
    Bidi(call: grpc.ServerDuplexStream<EchoRequest, EchoReplyInit>) {
      const n = record('Bidi', call.metadata);
      if (scripts.bidi !== undefined) scripts.bidi(call, n);
      else call.end();
    },
  };
  const server = new grpc.Server({
    'grpc.max_receive_message_length': MAX_MESSAGE_BYTES,
    'grpc.max_send_message_length': MAX_MESSAGE_BYTES,
  });
  server.addService(echoServerMethods, implementation);
  const port = await new Promise<number>((resolve, reject) => {
    server.bindAsync('127.0.0.1:0', grpc.ServerCredentials.createInsecure(), (error, bound) => {
      if (error === null) resolve(bound);
      else reject(error);
    });
  });
  t.teardown(() => {
    server.forceShutdown();
  });
  return { id, address: `127.0.0.1:${port}`, calls };
}
