/**
 * A grpc-js client for `grpc.health.v1.Health` built from
 * `test/fixtures/grpc/health.proto` by proto-loader (protobufjs), so the
 * proxy's hand-written codec is checked against an independent encoder.
 * Statuses come back as their enum names (`SERVING`, ...).
 */
import * as grpc from '@grpc/grpc-js';
import * as protoLoader from '@grpc/proto-loader';
import { repoPath } from './repo-root.js';

export const HEALTH_PROTO_PATH = repoPath('test', 'fixtures', 'grpc', 'health.proto');

export interface HealthRequest {
  service: string;
}

export interface HealthReply {
  status: string;
}

const packageDefinition = protoLoader.loadSync(HEALTH_PROTO_PATH, {
  enums: String,
  defaults: true,
});

function loadService(): protoLoader.ServiceDefinition {
  const definition = packageDefinition['grpc.health.v1.Health'];
  if (definition === undefined || 'format' in definition) {
    throw new Error(`grpc.health.v1.Health is not a service in ${HEALTH_PROTO_PATH}`);
  }
  return definition;
}

const service = loadService();

function toReply(value: object): HealthReply {
  const status = (value as Record<string, unknown>)['status'];
  if (typeof status !== 'string') throw new TypeError(`status: expected a string`);
  return { status };
}

function definition(name: 'Check' | 'Watch'): protoLoader.MethodDefinition<object, object> {
  const def = service[name];
  if (def === undefined) throw new Error(`grpc.health.v1.Health has no method ${name}`);
  return def;
}

const check = definition('Check');
const watch = definition('Watch');

export class HealthClient {
  readonly #client: grpc.Client;

  constructor(address: string) {
    this.#client = new grpc.Client(address, grpc.credentials.createInsecure());
  }

  /** Resolves with the status name; rejects with the grpc-js ServiceError. */
  check(name: string): Promise<string> {
    return new Promise((resolve, reject) => {
      this.#client.makeUnaryRequest(
        check.path,
        (value: HealthRequest) => check.requestSerialize(value),
        (bytes: Buffer) => toReply(check.responseDeserialize(bytes)),
        { service: name },
        (error, reply) => {
          if (error !== null) reject(error);
          else if (reply === undefined) reject(new Error('no reply'));
          else resolve(reply.status);
        },
      );
    });
  }

  watch(name: string): grpc.ClientReadableStream<HealthReply> {
    return this.#client.makeServerStreamRequest(
      watch.path,
      (value: HealthRequest) => watch.requestSerialize(value),
      (bytes: Buffer) => toReply(watch.responseDeserialize(bytes)),
      { service: name },
    );
  }

  close(): void {
    this.#client.close();
  }
}

/**
 * Reads a Watch stream message by message: `next()` resolves with the next
 * status name, rejecting if the stream fails or ends first.
 */
export class WatchReader {
  readonly #queue: string[] = [];
  readonly #waiters: { resolve: (s: string) => void; reject: (e: Error) => void }[] = [];
  #failure: Error | undefined;
  /** The final status of the call, once it ended. */
  readonly status: Promise<grpc.StatusObject>;

  constructor(readonly stream: grpc.ClientReadableStream<HealthReply>) {
    this.status = new Promise((resolve) => stream.on('status', resolve));
    stream.on('data', (reply: HealthReply) => {
      const waiter = this.#waiters.shift();
      if (waiter === undefined) this.#queue.push(reply.status);
      else waiter.resolve(reply.status);
    });
    const fail = (error: Error): void => {
      this.#failure ??= error;
      for (const waiter of this.#waiters.splice(0)) waiter.reject(error);
    };
    stream.on('error', fail);
    stream.on('end', () => fail(new Error('watch stream ended')));
  }

  next(): Promise<string> {
    const queued = this.#queue.shift();
    if (queued !== undefined) return Promise.resolve(queued);
    if (this.#failure !== undefined) return Promise.reject(this.#failure);
    return new Promise((resolve, reject) => this.#waiters.push({ resolve, reject }));
  }
}
