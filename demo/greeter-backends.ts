/**
 * Greeter backends for the demo and the tests: N grpc-js servers of the
 * standard helloworld.Greeter service, each of which says in its reply which
 * backend served the call, e.g.
 *
 *   Hello world from backend-2 (127.0.0.1:50052)
 *
 * Used as a library (`startGreeterBackends`) or run on its own:
 *
 *   node dist/demo/greeter-backends.js [--host 127.0.0.1] 50051 50052 50053
 *
 * which serves until SIGINT or SIGTERM.
 */
import { existsSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import * as grpc from '@grpc/grpc-js';
import * as protoLoader from '@grpc/proto-loader';

export interface HelloRequest {
  name: string;
}

export interface HelloReply {
  message: string;
}

/** The compiled Greeter service: what a server adds and a client calls. */
export interface GreeterProto {
  /** The service definition, for `Server.addService`. */
  service: grpc.ServiceDefinition;
  /** `/helloworld.Greeter/SayHello` with its (de)serializers. */
  sayHello: grpc.MethodDefinition<HelloRequest, HelloReply>;
  /** A client constructor for the service; call through `unaryCall`. */
  Client: grpc.ServiceClientConstructor;
}

export interface GreeterBackend {
  /** `backend-1`, `backend-2`, ... in the order the ports were given. */
  name: string;
  host: string;
  port: number;
  /** `host:port`, as it appears in replies. */
  address: string;
  /** Calls this backend has answered so far. */
  calls: number;
}

export interface GreeterBackends {
  backends: GreeterBackend[];
  /** Stops every server: lets calls in flight finish for up to `graceMs`. */
  close(graceMs?: number): Promise<void>;
}

/**
 * The project's root: the nearest directory above this module that holds
 * both package.json and demo/greeter.proto. Works from the sources (`demo/`)
 * and from the build (`dist/demo/`) alike, so nothing has to be copied.
 */
export function packageRoot(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  for (;;) {
    if (existsSync(join(dir, 'package.json')) && existsSync(join(dir, 'demo', 'greeter.proto'))) {
      return dir;
    }
    const parent = dirname(dir);
    if (parent === dir) {
      throw new Error(
        `cannot find the switchyard package root (package.json beside demo/greeter.proto) above ${fileURLToPath(import.meta.url)}`,
      );
    }
    dir = parent;
  }
}

/** demo/greeter.proto, found from the package root. */
export function greeterProtoPath(): string {
  return join(packageRoot(), 'demo', 'greeter.proto');
}

function isServiceClientConstructor(value: unknown): value is grpc.ServiceClientConstructor {
  return typeof value === 'function' && 'service' in value;
}

let cachedProto: GreeterProto | undefined;

/** Loads demo/greeter.proto once. */
export function loadGreeterProto(): GreeterProto {
  if (cachedProto !== undefined) return cachedProto;
  const definition = protoLoader.loadSync(greeterProtoPath(), {
    keepCase: true,
    longs: String,
    enums: String,
    defaults: true,
    oneofs: true,
  });
  const helloworld = grpc.loadPackageDefinition(definition)['helloworld'];
  const Client =
    helloworld !== undefined && !isServiceClientConstructor(helloworld)
      ? (helloworld as grpc.GrpcObject)['Greeter']
      : undefined;
  if (!isServiceClientConstructor(Client)) {
    throw new Error(`${greeterProtoPath()} does not define service helloworld.Greeter`);
  }
  const sayHello = Client.service['SayHello'] as
    grpc.MethodDefinition<HelloRequest, HelloReply> | undefined;
  if (sayHello === undefined) {
    throw new Error(`${greeterProtoPath()}: helloworld.Greeter has no SayHello method`);
  }
  cachedProto = { service: Client.service, sayHello, Client };
  return cachedProto;
}

/** One SayHello call on `client`, with a deadline `timeoutMs` from now. */
export function sayHello(
  client: grpc.Client,
  request: HelloRequest,
  timeoutMs = 5000,
): Promise<HelloReply> {
  const { sayHello: method } = loadGreeterProto();
  return new Promise((resolvePromise, reject) => {
    client.makeUnaryRequest(
      method.path,
      method.requestSerialize,
      method.responseDeserialize,
      request,
      new grpc.Metadata(),
      { deadline: Date.now() + timeoutMs },
      (error: grpc.ServiceError | null, reply?: HelloReply) => {
        if (error !== null) reject(error);
        else if (reply === undefined) reject(new Error('SayHello returned no reply'));
        else resolvePromise(reply);
      },
    );
  });
}

function bind(server: grpc.Server, address: string): Promise<number> {
  return new Promise((resolvePromise, reject) => {
    server.bindAsync(address, grpc.ServerCredentials.createInsecure(), (error, port) => {
      if (error !== null) reject(error);
      else resolvePromise(port);
    });
  });
}

function shutdown(server: grpc.Server, graceMs: number): Promise<void> {
  return new Promise((resolvePromise) => {
    const timer = setTimeout(() => {
      server.forceShutdown();
      resolvePromise();
    }, graceMs);
    server.tryShutdown(() => {
      clearTimeout(timer);
      resolvePromise();
    });
  });
}

/**
 * Starts one Greeter server per port (0 = any free port), named backend-1,
 * backend-2, ... in order. If any port cannot be bound, the servers already
 * started are stopped and the promise rejects naming the port.
 */
export async function startGreeterBackends(
  ports: readonly number[],
  host = '127.0.0.1',
): Promise<GreeterBackends> {
  const { service } = loadGreeterProto();
  const started: { server: grpc.Server; backend: GreeterBackend }[] = [];
  const close = async (graceMs = 2000): Promise<void> => {
    await Promise.all(started.map(({ server }) => shutdown(server, graceMs)));
  };
  try {
    for (const [index, requestedPort] of ports.entries()) {
      const name = `backend-${index + 1}`;
      const server = new grpc.Server();
      const backend: GreeterBackend = { name, host, port: requestedPort, address: '', calls: 0 };
      const handler: grpc.handleUnaryCall<HelloRequest, HelloReply> = (call, callback) => {
        backend.calls += 1;
        const who = call.request.name === '' ? 'world' : call.request.name;
        callback(null, { message: `Hello ${who} from ${name} (${backend.address})` });
      };
      server.addService(service, { SayHello: handler });
      let port: number;
      try {
        port = await bind(server, `${host}:${requestedPort}`);
      } catch (error) {
        server.forceShutdown();
        const reason = error instanceof Error ? error.message : String(error);
        throw new Error(
          `${name} cannot listen on ${host}:${requestedPort} (is the port busy?): ${reason}`,
          { cause: error },
        );
      }
      backend.port = port;
      backend.address = `${host.includes(':') ? `[${host}]` : host}:${port}`;
      started.push({ server, backend });
    }
  } catch (error) {
    await close(0);
    throw error;
  }
  return { backends: started.map(({ backend }) => backend), close };
}

async function main(argv: readonly string[]): Promise<void> {
  let host = '127.0.0.1';
  const ports: number[] = [];
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i] ?? '';
    if (arg === '--host') {
      host = argv[++i] ?? '';
    } else if (/^\d+$/.test(arg) && Number(arg) <= 65535) {
      ports.push(Number(arg));
    } else {
      throw new Error(
        `unexpected argument ${JSON.stringify(arg)}\nusage: greeter-backends [--host HOST] PORT...`,
      );
    }
  }
  if (ports.length === 0) throw new Error('usage: greeter-backends [--host HOST] PORT...');
  const running = await startGreeterBackends(ports, host);
  for (const backend of running.backends)
    console.log(`${backend.name} serving on ${backend.address}`);
  const stop = (): void => {
    void running.close().then(() => process.exit(0));
  };
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
}

const invokedPath = process.argv[1];
if (invokedPath !== undefined && import.meta.url === pathToFileURL(resolve(invokedPath)).href) {
  main(process.argv.slice(2)).catch((error: unknown) => {
    console.error(`greeter-backends: ${error instanceof Error ? error.message : String(error)}`);
    process.exit(1);
  });
}
