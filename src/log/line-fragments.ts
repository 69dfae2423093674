/**
 * Pre-serialised parts of the access-log line for the fields that repeat
 * call after call: `,"listener":…` to `,"authority":…` (the same for every
 * call on one method from one client), `,"route":…` to `,"endpoint":…` (one
 * per endpoint), the status fields (mostly `upstream`, OK, 200), and the
 * byte counts with attempts and retries (the same for calls alike). Each is
 * built once and found again with a map lookup by a string the proxy keeps
 * (its hash is cached in the string) and a few `===` checks, instead of
 * re-scanning constant strings for escapes and concatenating a dozen pieces
 * per call. Fewer pieces matter most: the destination flattens the line's
 * rope, and that cost grows with its pieces (measured: a 21-piece line took
 * about three times as long to encode as a 6-piece one of the same length),
 * so the parts a line takes whole are flat (flat-string.ts); they are also
 * encoded once (line-part.ts), for the buffered stdout to copy as bytes.
 *
 * Keys can be client-chosen (path, authority), so each map is bounded and
 * simply emptied when full: a flood of distinct values costs what building
 * the line always cost, plus a map write.
 */
import type { CallOutcome } from '../outcome/call-outcome.js';
import { jsonNumber, jsonString } from './json-literal.js';
import { EncodedPart } from './line-part.js';

/** Entries per map before it is emptied. */
const MAX_ENTRIES = 1024;

/** An upstream entry's joined part before it is first joined (never written). */
const NO_PART = new EncodedPart('');

interface RequestEntry {
  readonly listener: string;
  readonly clientSubject: string | undefined;
  readonly method: string;
  readonly authority: string;
  readonly fragment: string;
}

interface UpstreamEntry {
  readonly route: string | undefined;
  readonly cluster: string | undefined;
  readonly fragment: string;
  /** The last request and status fragments joined around this one (`middle`). */
  request: string;
  status: string;
  joined: EncodedPart;
}

interface StatusEntry {
  readonly source: string;
  readonly grpcStatus: number | undefined;
  readonly httpStatus: number | undefined;
  readonly error: string | undefined;
  readonly fragment: string;
}

interface TailEntry {
  readonly bytesIn: number;
  readonly bytesOut: number;
  readonly attempts: number;
  readonly retries: number;
  readonly fragment: EncodedPart;
}

export class LineFragments {
  readonly #requests = new Map<string, RequestEntry>();
  readonly #byEndpoint = new Map<string, UpstreamEntry>();
  readonly #byRoute = new Map<string, UpstreamEntry>();
  /** The last status and tail: most calls end like the one before. */
  #status: StatusEntry | undefined;
  #tail: TailEntry | undefined;

  /**
   * From `,"listener":` to the status fields, `error` included: the
   * request, upstream and status parts joined, kept per upstream entry.
   */
  middle(o: CallOutcome): EncodedPart {
    const request = this.#request(o);
    const upstream = this.#upstream(o);
    const status = this.#statusOf(o);
    if (upstream.request !== request || upstream.status !== status) {
      upstream.request = request;
      upstream.status = status;
      upstream.joined = new EncodedPart(request + upstream.fragment + status);
    }
    return upstream.joined;
  }

  /** `,"bytes_in":…,"bytes_out":…,"attempts":…,"retries":…` */
  tail(o: CallOutcome): EncodedPart {
    const last = this.#tail;
    if (
      last !== undefined &&
      last.bytesIn === o.bytesIn &&
      last.bytesOut === o.bytesOut &&
      last.attempts === o.attempts &&
      last.retries === o.retries
    ) {
      return last.fragment;
    }
    const { bytesIn, bytesOut, attempts, retries } = o;
    let fragment = ',"bytes_in":' + jsonNumber(bytesIn) + ',"bytes_out":' + jsonNumber(bytesOut);
    fragment += ',"attempts":' + jsonNumber(attempts) + ',"retries":' + jsonNumber(retries);
    this.#tail = { bytesIn, bytesOut, attempts, retries, fragment: new EncodedPart(fragment) };
    return this.#tail.fragment;
  }

  /** `,"listener":…[,"client_subject":…],"method":…,"path":…,"authority":…` */
  #request(o: CallOutcome): string {
    const entry = this.#requests.get(o.path);
    if (
      entry !== undefined &&
      entry.listener === o.listener &&
      entry.clientSubject === o.clientSubject &&
      entry.method === o.method &&
      entry.authority === o.authority
    ) {
      return entry.fragment;
    }
    let fragment = ',"listener":' + jsonString(o.listener);
    if (o.clientSubject !== undefined)
      fragment += ',"client_subject":' + jsonString(o.clientSubject);
    fragment += ',"method":' + jsonString(o.method) + ',"path":' + jsonString(o.path);
    fragment += ',"authority":' + jsonString(o.authority);
    const { listener, clientSubject, method, authority } = o;
    remember(this.#requests, o.path, { listener, clientSubject, method, authority, fragment });
    return fragment;
  }

  /** `[,"route":…][,"cluster":…][,"endpoint":…]`, keyed by the endpoint, or the route without one. */
  #upstream(o: CallOutcome): UpstreamEntry {
    const map = o.endpoint !== undefined ? this.#byEndpoint : this.#byRoute;
    const key = o.endpoint ?? o.route ?? '';
    const found = map.get(key);
    if (found !== undefined && found.route === o.route && found.cluster === o.cluster) {
      return found;
    }
    let fragment = '';
    if (o.route !== undefined) fragment += ',"route":' + jsonString(o.route);
    if (o.cluster !== undefined) fragment += ',"cluster":' + jsonString(o.cluster);
    if (o.endpoint !== undefined) fragment += ',"endpoint":' + jsonString(o.endpoint);
    const entry = {
      route: o.route,
      cluster: o.cluster,
      fragment,
      request: '',
      status: '',
      joined: NO_PART,
    };
    remember(map, key, entry);
    return entry;
  }

  /** `,"source":…[,"grpc_status":…][,"http_status":…][,"error":…]` */
  #statusOf(o: CallOutcome): string {
    const last = this.#status;
    if (
      last !== undefined &&
      last.source === o.source &&
      last.grpcStatus === o.grpcStatus &&
      last.httpStatus === o.httpStatus &&
      last.error === o.error
    ) {
      return last.fragment;
    }
    let fragment = ',"source":' + jsonString(o.source);
    if (o.grpcStatus !== undefined) fragment += ',"grpc_status":' + jsonNumber(o.grpcStatus);
    if (o.httpStatus !== undefined) fragment += ',"http_status":' + jsonNumber(o.httpStatus);
    if (o.error !== undefined) fragment += ',"error":' + jsonString(o.error);
    const { source, grpcStatus, httpStatus, error } = o;
    this.#status = { source, grpcStatus, httpStatus, error, fragment };
    return fragment;
  }
}

function remember<E>(map: Map<string, E>, key: string, entry: E): void {
  if (map.size >= MAX_ENTRIES && !map.has(key)) map.clear();
  map.set(key, entry);
}
