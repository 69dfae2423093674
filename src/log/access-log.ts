/** One JSON line per finished call: the access log. */
import type { CallOutcome, OutcomeSink } from '../outcome/call-outcome.js';
import { AccessLineFields, MAX_ACCESS_LINE_PARTS } from './access-line.js';
import type { LinePart } from './line-part.js';
import type { Logger } from './logger.js';
import { lineWriter, type InfoLineWriter } from './pino-line.js';

export class AccessLog implements OutcomeSink {
  readonly #logger: Logger;
  /** Writes the hand-serialised line; undefined for a logger pino must serialise for. */
  readonly #write: InfoLineWriter | undefined;
  readonly #fields = new AccessLineFields();
  /** The fields' parts of the line being written, reused call after call. */
  readonly #parts: LinePart[] = new Array<LinePart>(MAX_ACCESS_LINE_PARTS).fill('');

  constructor(logger: Logger) {
    this.#logger = logger;
    this.#write = lineWriter(logger, 'call');
  }

  record(o: CallOutcome): void {
    if (!this.#logger.isLevelEnabled('info')) return;
    if (this.#write !== undefined) {
      this.#write(this.#parts, this.#fields.parts(o, this.#parts));
      return;
    }
    this.#logger.info(accessLineObject(o), 'call');
  }
}

/**
 * The same fields as an object, for pino to serialise (pretty output, custom
 * loggers); also the reference the hand-written line is tested against.
 */
export function accessLineObject(o: CallOutcome): Record<string, unknown> {
  return {
    request_id: o.requestId,
    listener: o.listener,
    ...(o.clientSubject === undefined ? {} : { client_subject: o.clientSubject }),
    method: o.method,
    path: o.path,
    authority: o.authority,
    route: o.route,
    cluster: o.cluster,
    endpoint: o.endpoint,
    source: o.source,
    grpc_status: o.grpcStatus,
    http_status: o.httpStatus,
    error: o.error,
    error_message: o.errorMessage,
    duration_ms: Math.round(o.durationMs * 1000) / 1000,
    bytes_in: o.bytesIn,
    bytes_out: o.bytesOut,
    attempts: o.attempts,
    retries: o.retries,
    ...(o.earlierAttempts.length === 0
      ? {}
      : {
          earlier_attempts: o.earlierAttempts.map((a) => ({
            endpoint: a.endpoint,
            grpc_status: a.grpcStatus,
            error: a.error,
            duration_ms: Math.round(a.durationMs * 1000) / 1000,
            then: a.then,
          })),
        }),
  };
}
