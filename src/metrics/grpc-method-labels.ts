/**
 * `grpc_service` / `grpc_method` label values for a call, bounded by config:
 * only a call on a route matched by `service` or `method` has its path split
 * into service and method; every other call (unrouted, or on a prefix,
 * authority or header route) is `unknown`/`unknown`, never the raw path.
 *
 * A service route takes any method name under its service, so the client
 * chooses those: a method must look like a proto identifier, and each
 * service keeps at most `maxMethodsPerService` distinct names (the first
 * seen); later ones are `unknown`. A name, once admitted, stays admitted, so
 * a call's labels at accept and at finish agree.
 *
 * The same label set is always the same object (one per admitted path, one
 * per service for refused names, one for unknown), and there are boundedly
 * many: CallMetrics caches its per-method series by that identity.
 */
export const UNKNOWN_LABEL = 'unknown';

export const DEFAULT_MAX_METHODS_PER_SERVICE = 100;

export interface GrpcMethodLabels {
  readonly grpc_service: string;
  readonly grpc_method: string;
}

const UNKNOWN: GrpcMethodLabels = { grpc_service: UNKNOWN_LABEL, grpc_method: UNKNOWN_LABEL };
const METHOD_NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;

export class GrpcMethodLabeler {
  readonly #maxMethodsPerService: number;
  readonly #methods = new Map<string, Set<string>>();
  /**
   * Labels of admitted paths, so the per-call work is one map lookup (each
   * call is labelled at accept and at finish). Bounded like the admitted
   * names: services of configured routes × maxMethodsPerService.
   */
  readonly #byPath = new Map<string, GrpcMethodLabels>();
  /** `<service>`/`unknown` per service, for its refused method names. */
  readonly #refused = new Map<string, GrpcMethodLabels>();

  constructor(maxMethodsPerService = DEFAULT_MAX_METHODS_PER_SERVICE) {
    this.#maxMethodsPerService = maxMethodsPerService;
  }

  /** `grpcRoute`: the call matched a route by `service` or `method` (Route.grpcOnly). */
  labels(path: string, grpcRoute: boolean): GrpcMethodLabels {
    if (!grpcRoute) return UNKNOWN;
    const cached = this.#byPath.get(path);
    if (cached !== undefined) return cached;
    // Such a route only matches `/<service>/<rest>`: the service part is the configured one.
    const slash = path.indexOf('/', 1);
    if (!path.startsWith('/') || slash < 0) return UNKNOWN;
    const service = path.slice(1, slash);
    const method = path.slice(slash + 1);
    if (!METHOD_NAME.test(method)) return this.#refusedLabels(service);
    let seen = this.#methods.get(service);
    if (seen === undefined) {
      seen = new Set();
      this.#methods.set(service, seen);
    }
    if (!seen.has(method)) {
      if (seen.size >= this.#maxMethodsPerService) return this.#refusedLabels(service);
      seen.add(method);
    }
    const labels = { grpc_service: service, grpc_method: method };
    this.#byPath.set(path, labels);
    return labels;
  }

  #refusedLabels(service: string): GrpcMethodLabels {
    let labels = this.#refused.get(service);
    if (labels === undefined) {
      labels = { grpc_service: service, grpc_method: UNKNOWN_LABEL };
      this.#refused.set(service, labels);
    }
    return labels;
  }
}
