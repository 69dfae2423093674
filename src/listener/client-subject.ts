/**
 * The subject of the certificate a client presented (mTLS listeners), as
 * `O=Example, CN=client-1`, for the access log. Read once per connection.
 */
import type { Http2Session } from 'node:http2';
import { TLSSocket } from 'node:tls';

const subjects = new WeakMap<Http2Session, string | undefined>();

export function clientSubject(session: Http2Session | undefined): string | undefined {
  if (session === undefined) return undefined;
  if (subjects.has(session)) return subjects.get(session);
  const socket: unknown = session.socket;
  let subject: string | undefined;
  if (socket instanceof TLSSocket) {
    // undefined without a client certificate (a listener without client_ca asks for none).
    const certificate = socket.getPeerX509Certificate();
    subject = certificate?.subject.split('\n').join(', ');
  }
  subjects.set(session, subject);
  return subject;
}
