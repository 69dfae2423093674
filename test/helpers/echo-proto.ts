/**
 * Typed access to `test/fixtures/grpc/echo.proto`: the message interfaces, and
 * grpc-js method definitions whose (de)serializers check what protobufjs hands
 * back, so neither the backend nor the client touches an untyped value.
 */
import type * as grpc from '@grpc/grpc-js';
import * as protoLoader from '@grpc/proto-loader';
import { repoPath } from './repo-root.js';

export const ECHO_PROTO_PATH = repoPath('test', 'fixtures', 'grpc', 'echo.proto');

export const ECHO_SERVICE_NAME = 'switchyard.test.Echo';

/** A decoded `EchoRequest` (proto-loader fills defaults, so every field is present). */
export interface EchoRequest {
  message: string;
  payload: Buffer;
  failCode: number;
  failMessage: string;
  failDetails: Buffer;
  count: number;
  replySize: number;
}

/** What a client may send: any subset of the fields. */
export type EchoRequestInit = Partial<EchoRequest>;

/** A decoded `EchoReply`. */
export interface EchoReply {
  message: string;
  payload: Buffer;
  backend: string;
  index: number;
  /** int64, loaded as a JS number (`longs: Number`). */
  totalBytes: number;
}

export type EchoReplyInit = Partial<EchoReply>;

export type EchoMethodName = 'Unary' | 'ServerStream' | 'ClientStream' | 'Bidi';

export const ECHO_METHOD_NAMES: readonly EchoMethodName[] = [
  'Unary',
  'ServerStream',
  'ClientStream',
  'Bidi',
];

export function echoMethodPath(name: EchoMethodName): string {
  return `/${ECHO_SERVICE_NAME}/${name}`;
}

const packageDefinition = protoLoader.loadSync(ECHO_PROTO_PATH, {
  keepCase: false,
  longs: Number,
  enums: String,
  defaults: true,
  oneofs: true,
});

function loadService(): protoLoader.ServiceDefinition {
  const definition = packageDefinition[ECHO_SERVICE_NAME];
  if (definition === undefined || 'format' in definition) {
    throw new Error(`${ECHO_SERVICE_NAME} is not a service in ${ECHO_PROTO_PATH}`);
  }
  return definition;
}

const service = loadService();

function field(value: object, name: string): unknown {
  return (value as Record<string, unknown>)[name];
}

function stringField(value: object, name: string): string {
  const v = field(value, name);
  if (typeof v !== 'string') throw new TypeError(`${name}: expected a string, got ${typeof v}`);
  return v;
}

function numberField(value: object, name: string): number {
  const v = field(value, name);
  if (typeof v !== 'number') throw new TypeError(`${name}: expected a number, got ${typeof v}`);
  return v;
}

function bytesField(value: object, name: string): Buffer {
  const v = field(value, name);
  if (Buffer.isBuffer(v)) return v;
  if (v instanceof Uint8Array) return Buffer.from(v.buffer, v.byteOffset, v.byteLength);
  throw new TypeError(`${name}: expected bytes, got ${typeof v}`);
}

export function toEchoRequest(value: object): EchoRequest {
  return {
    message: stringField(value, 'message'),
    payload: bytesField(value, 'payload'),
    failCode: numberField(value, 'failCode'),
    failMessage: stringField(value, 'failMessage'),
    failDetails: bytesField(value, 'failDetails'),
    count: numberField(value, 'count'),
    replySize: numberField(value, 'replySize'),
  };
}

export function toEchoReply(value: object): EchoReply {
  return {
    message: stringField(value, 'message'),
    payload: bytesField(value, 'payload'),
    backend: stringField(value, 'backend'),
    index: numberField(value, 'index'),
    totalBytes: numberField(value, 'totalBytes'),
  };
}

function method<Req extends object, Res extends object>(
  name: EchoMethodName,
  parseRequest: (value: object) => Req,
  parseResponse: (value: object) => Res,
): grpc.MethodDefinition<Req, Res> {
  const def = service[name];
  if (def === undefined) throw new Error(`${ECHO_SERVICE_NAME} has no method ${name}`);
  return {
    path: def.path,
    requestStream: def.requestStream,
    responseStream: def.responseStream,
    requestSerialize: (value: Req) => def.requestSerialize(value),
    requestDeserialize: (bytes: Buffer) => parseRequest(def.requestDeserialize(bytes)),
    responseSerialize: (value: Res) => def.responseSerialize(value),
    responseDeserialize: (bytes: Buffer) => parseResponse(def.responseDeserialize(bytes)),
    ...(def.originalName === undefined ? {} : { originalName: def.originalName }),
  };
}

/** Method definitions as the backend sees them: full requests in, replies out. */
export const echoServerMethods = {
  Unary: method<EchoRequest, EchoReplyInit>('Unary', toEchoRequest, toEchoReply),
  ServerStream: method<EchoRequest, EchoReplyInit>('ServerStream', toEchoRequest, toEchoReply),
  ClientStream: method<EchoRequest, EchoReplyInit>('ClientStream', toEchoRequest, toEchoReply),
  Bidi: method<EchoRequest, EchoReplyInit>('Bidi', toEchoRequest, toEchoReply),
} as const;

/** Method definitions as a client sees them: partial requests out, full replies in. */
export const echoClientMethods = {
  Unary: method<EchoRequestInit, EchoReply>('Unary', toEchoRequest, toEchoReply),
  ServerStream: method<EchoRequestInit, EchoReply>('ServerStream', toEchoRequest, toEchoReply),
  ClientStream: method<EchoRequestInit, EchoReply>('ClientStream', toEchoRequest, toEchoReply),
  Bidi: method<EchoRequestInit, EchoReply>('Bidi', toEchoRequest, toEchoReply),
} as const;
