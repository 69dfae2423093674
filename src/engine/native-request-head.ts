/**
 * The request head of a switchyard-engine call, read from the flat fields
 * the engine decoded. Its `headers` object is built only when something
 * asks for it (header routing, a hashing balancer, a local reply's error
 * text): the common call reads a few names through `header()` and sends
 * the fields on upstream as they are (`fields`), so it never pays for a
 * header object.
 */
import type { IncomingHttpHeaders } from 'node:http2';
import { isGrpcContentType } from '../grpc/http-status-mapping.js';
import type { RequestHead } from '../listener/downstream-call.js';
import { headerValue } from '../listener/header-value.js';
import { headersFromFields } from './header-objects.js';

/** Who sent the call: the same for every call on a connection. */
export interface RequestOrigin {
  readonly listener: string;
  readonly remoteAddress: string;
  readonly clientSubject: string | undefined;
}

export class NativeRequestHead implements RequestHead {
  readonly method: string;
  readonly path: string;
  readonly authority: string;
  readonly scheme: string;
  readonly isGrpc: boolean;
  readonly endStream: boolean;
  readonly remoteAddress: string;
  readonly listener: string;
  readonly clientSubject: string | undefined;
  readonly fields: readonly string[];
  #headers: IncomingHttpHeaders | undefined;

  constructor(fields: string[], endStream: boolean, origin: RequestOrigin) {
    this.fields = fields;
    this.endStream = endStream;
    this.remoteAddress = origin.remoteAddress;
    this.listener = origin.listener;
    this.clientSubject = origin.clientSubject;
    let method = '';
    let path = '';
    let authority: string | undefined;
    let scheme = 'http';
    for (let i = 0; i < fields.length; i += 2) {
      const name = fields[i] as string;
      const value = fields[i + 1] as string;
      if (name === ':method') method = value;
      else if (name === ':path') path = value;
      else if (name === ':authority') authority = value;
      else if (name === ':scheme') scheme = value;
      // Pseudo-headers come first (the engine checked the block).
      else if (name.charCodeAt(0) !== 58 /* : */) break;
    }
    this.method = method;
    this.path = path;
    this.authority = authority ?? this.header('host') ?? '';
    this.scheme = scheme;
    this.isGrpc = isGrpcContentType(this.header('content-type'));
  }

  get headers(): IncomingHttpHeaders {
    this.#headers ??= headersFromFields(this.fields as string[]);
    return this.#headers;
  }

  header(name: string): string | undefined {
    const fields = this.fields;
    let found: string | undefined;
    for (let i = 0; i < fields.length; i += 2) {
      if (fields[i] !== name) continue;
      // Repeated: the joined value the header object has.
      if (found !== undefined) return headerValue(this.headers, name);
      found = fields[i + 1];
    }
    return found;
  }
}
