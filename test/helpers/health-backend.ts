/**
 * A `grpc.health.v1.Health` service for test backends (added to an echo
 * backend with its `services` option), built from
 * `test/fixtures/grpc/health.proto` by proto-loader, so the proxy's
 * hand-written health codec is checked against an independent encoder.
 *
 * The test sets the status every Check answers, and can hold replies
 * (`hold()`): Checks wait until `release()`.
 */
import type * as grpc from '@grpc/grpc-js';
import * as protoLoader from '@grpc/proto-loader';
import { repoPath } from './repo-root.js';

const HEALTH_PROTO_PATH = repoPath('test', 'fixtures', 'grpc', 'health.proto');

const packageDefinition = protoLoader.loadSync(HEALTH_PROTO_PATH, {
  enums: String,
  defaults: true,
});

function healthService(): protoLoader.ServiceDefinition {
  const definition = packageDefinition['grpc.health.v1.Health'];
  if (definition === undefined || 'format' in definition) {
    throw new Error(`grpc.health.v1.Health is not a service in ${HEALTH_PROTO_PATH}`);
  }
  return definition;
}

export type ServingStatus = 'SERVING' | 'NOT_SERVING' | 'UNKNOWN';

/** A grpc-js service definition and its implementation, for `server.addService`. */
export interface ExtraService {
  readonly definition: grpc.ServiceDefinition;
  readonly implementation: grpc.UntypedServiceImplementation;
}

export class HealthControl implements ExtraService {
  /** What every Check answers. */
  status: ServingStatus = 'SERVING';
  /** Checks answered so far. */
  checks = 0;
  /** The `service` field of the last Check. */
  lastService: string | undefined;
  readonly definition: grpc.ServiceDefinition = healthService();
  readonly implementation: grpc.UntypedServiceImplementation;
  #held: (() => void)[] | undefined;

  constructor() {
    this.implementation = {
      Check: (
        call: grpc.ServerUnaryCall<{ service: string }, { status: string }>,
        callback: grpc.sendUnaryData<{ status: string }>,
      ) => {
        const reply = (): void => {
          this.checks++;
          this.lastService = call.request.service;
          callback(null, { status: this.status });
        };
        if (this.#held === undefined) reply();
        else this.#held.push(reply);
      },
    };
  }

  /** Checks wait from now until `release()`. */
  hold(): void {
    this.#held ??= [];
  }

  /** Answers the held Checks and stops holding. */
  release(): void {
    const held = this.#held ?? [];
    this.#held = undefined;
    for (const reply of held) reply();
  }
}
