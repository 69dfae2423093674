/**
 * The proxy's own `grpc.health.v1.Health` service (grpc/doc/health-checking.md),
 * answered on listeners with `health_service: true` before routing:
 *
 * - `""` is the proxy itself: SERVING while it takes calls, NOT_SERVING once
 *   `Switchyard.close()` began (`shutdown()`);
 * - a service some route matches by `service` is SERVING while every cluster
 *   of the first such route has at least one available endpoint (no health
 *   flag set), NOT_SERVING otherwise, and NOT_SERVING during shutdown;
 * - any other service is unknown: Check fails with NOT_FOUND, Watch sends
 *   SERVICE_UNKNOWN and stays open (a reload may add a route for it).
 *
 * Watch sends the status at once, then re-evaluates it every `pollMs` and
 * sends each change. On shutdown every Watch gets NOT_SERVING (unless that was
 * its last message) and then ends with UNAVAILABLE, so listeners can close.
 * Health calls are not forwarded, not routed and not in the access log.
 */
import type { OutgoingHttpHeaders } from 'node:http2';
import { ProxyError } from '../errors/proxy-error.js';
import type {
  DownstreamCall,
  DownstreamHandler,
  RequestHead,
} from '../listener/downstream-call.js';
import { sendLocalReply } from '../proxy/local-reply.js';
import type { Snapshot } from '../proxy/snapshot.js';
import { encodeGrpcMessage } from './grpc-message.js';
import {
  HEALTH_CHECK_PATH,
  HEALTH_WATCH_PATH,
  ServingStatus,
  decodeHealthCheckRequest,
  encodeHealthCheckResponse,
  frameGrpcMessage,
  unframeSingleMessage,
  type ServingStatusCode,
} from './health-codec.js';
import { GrpcStatus, type GrpcStatusCode } from './status.js';

/** How often a Watch re-evaluates its status. */
export const DEFAULT_WATCH_POLL_MS = 250;
/** A health request is one short service name; anything larger is refused. */
const MAX_REQUEST_BYTES = 16 * 1024;

export interface HealthServiceOptions {
  /** Re-evaluation interval of Watch streams. Default 250 ms. */
  readonly pollMs?: number;
}

export class HealthService {
  readonly #snapshot: () => Snapshot;
  readonly #pollMs: number;
  readonly #watches = new Set<HealthCall>();
  #shuttingDown = false;

  /** `snapshot` returns the current config snapshot each time it is called. */
  constructor(snapshot: () => Snapshot, options: HealthServiceOptions = {}) {
    this.#snapshot = snapshot;
    this.#pollMs = options.pollMs ?? DEFAULT_WATCH_POLL_MS;
  }

  /** The call is a Health Check or Watch (by path alone). */
  static isHealthCall(head: RequestHead): boolean {
    return head.path === HEALTH_CHECK_PATH || head.path === HEALTH_WATCH_PATH;
  }

  /** Answers a health call (one for which `isHealthCall` holds). */
  serve(call: DownstreamCall): void {
    const healthCall = new HealthCall(call, this, call.head.path === HEALTH_WATCH_PATH);
    call.attach(healthCall);
    if (!call.head.isGrpc) {
      const type = call.head.headers['content-type'] ?? 'none';
      sendLocalReply(
        call,
        new ProxyError(
          'unsupported_media_type',
          `health service takes gRPC only; content-type ${type} is not application/grpc`,
        ),
      );
    }
  }

  /** The status of `service` now; undefined for a service the proxy does not know. */
  status(service: string): ServingStatusCode | undefined {
    if (service === '')
      return this.#shuttingDown ? ServingStatus.NOT_SERVING : ServingStatus.SERVING;
    const snapshot = this.#snapshot();
    const clusters = snapshot.routes.serviceClusters(service);
    if (clusters === undefined) return undefined;
    if (this.#shuttingDown) return ServingStatus.NOT_SERVING;
    const healthy = clusters.every(
      (name) => snapshot.clusters.get(name)?.endpoints.some((e) => e.available) === true,
    );
    return healthy ? ServingStatus.SERVING : ServingStatus.NOT_SERVING;
  }

  /** Everything is NOT_SERVING from now on; open Watch streams are told so and ended. */
  shutdown(): void {
    this.#shuttingDown = true;
    for (const watch of [...this.#watches]) watch.endForShutdown();
  }

  get shuttingDown(): boolean {
    return this.#shuttingDown;
  }

  get pollMs(): number {
    return this.#pollMs;
  }

  /** Open Watch streams (for tests). */
  get watching(): number {
    return this.#watches.size;
  }

  addWatch(watch: HealthCall): void {
    this.#watches.add(watch);
  }

  removeWatch(watch: HealthCall): void {
    this.#watches.delete(watch);
  }
}

/** One Check or Watch call: reads the request, then answers or streams. */
class HealthCall implements DownstreamHandler {
  readonly #down: DownstreamCall;
  readonly #service: HealthService;
  readonly #watch: boolean;
  readonly #body: Buffer[] = [];
  #bodyBytes = 0;
  #done = false;
  #name = '';
  #last: ServingStatusCode | undefined;
  #timer: NodeJS.Timeout | undefined;

  constructor(down: DownstreamCall, service: HealthService, watch: boolean) {
    this.#down = down;
    this.#service = service;
    this.#watch = watch;
  }

  onRequestData(chunk: Buffer): void {
    if (this.#done || !this.#down.head.isGrpc) return;
    this.#bodyBytes += chunk.length;
    if (this.#bodyBytes > MAX_REQUEST_BYTES) {
      this.#fail(GrpcStatus.RESOURCE_EXHAUSTED, 'health request larger than 16 KiB');
      return;
    }
    this.#body.push(chunk);
  }

  onRequestEnd(): void {
    if (this.#done || this.#down.responded || !this.#down.head.isGrpc) return;
    const framed = unframeSingleMessage(Buffer.concat(this.#body));
    if (!framed.ok) {
      this.#fail(GrpcStatus.INTERNAL, `bad health request: ${framed.reason}`);
      return;
    }
    try {
      this.#name = decodeHealthCheckRequest(framed.message).service;
    } catch (error) {
      const reason = error instanceof Error ? error.message : String(error);
      this.#fail(GrpcStatus.INTERNAL, `bad health request: ${reason}`);
      return;
    }
    if (this.#watch) this.#startWatch();
    else this.#check();
  }

  onResponseDrain(): void {
    // Health messages are a few bytes each; nothing waits for drain.
  }

  onDownstreamClose(): void {
    this.#stop();
  }

  /** Shutdown: NOT_SERVING unless already said, then UNAVAILABLE. */
  endForShutdown(): void {
    if (this.#done) return;
    if (this.#last !== ServingStatus.NOT_SERVING) this.#send(ServingStatus.NOT_SERVING);
    this.#fail(GrpcStatus.UNAVAILABLE, 'proxy is shutting down');
  }

  #check(): void {
    const status = this.#service.status(this.#name);
    if (status === undefined) {
      this.#fail(GrpcStatus.NOT_FOUND, `unknown service ${this.#name}`);
      return;
    }
    this.#done = true;
    this.#down.respond(responseHeaders());
    this.#down.write(frameGrpcMessage(encodeHealthCheckResponse(status)));
    this.#down.end({ 'grpc-status': String(GrpcStatus.OK) });
  }

  #startWatch(): void {
    if (this.#service.shuttingDown) {
      this.endForShutdown();
      return;
    }
    this.#down.respond(responseHeaders());
    this.#service.addWatch(this);
    this.#poll();
    this.#timer = setInterval(() => this.#poll(), this.#service.pollMs);
    this.#timer.unref();
  }

  #poll(): void {
    const status = this.#service.status(this.#name) ?? ServingStatus.SERVICE_UNKNOWN;
    if (status !== this.#last) this.#send(status);
  }

  #send(status: ServingStatusCode): void {
    if (!this.#down.responded) this.#down.respond(responseHeaders());
    this.#last = status;
    this.#down.write(frameGrpcMessage(encodeHealthCheckResponse(status)));
  }

  /** Ends the call with a non-OK status: trailers-only before headers, trailers after. */
  #fail(code: GrpcStatusCode, message: string): void {
    if (this.#done) return;
    const status: OutgoingHttpHeaders = {
      'grpc-status': String(code),
      'grpc-message': encodeGrpcMessage(message),
    };
    this.#stop();
    if (this.#down.responded) this.#down.end(status);
    else this.#down.respondAndEnd({ ...responseHeaders(), ...status });
  }

  #stop(): void {
    this.#done = true;
    clearInterval(this.#timer);
    this.#timer = undefined;
    this.#service.removeWatch(this);
  }
}

function responseHeaders(): OutgoingHttpHeaders {
  return { ':status': 200, 'content-type': 'application/grpc' };
}
