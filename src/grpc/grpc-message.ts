/**
 * `grpc-message` percent-encoding (PROTOCOL-HTTP2.md): the UTF-8 bytes of the
 * message, with every byte outside printable ASCII (0x20-0x7E) and `%` itself
 * written as `%XX`. Decoding never fails: invalid escapes stay as they are.
 */
const HEX = '0123456789ABCDEF';

function isUnreserved(byte: number): boolean {
  return byte >= 0x20 && byte <= 0x7e && byte !== 0x25;
}

export function encodeGrpcMessage(message: string): string {
  let plain = true;
  for (let i = 0; i < message.length; i++) {
    if (!isUnreserved(message.charCodeAt(i))) {
      plain = false;
      break;
    }
  }
  if (plain) return message;
  let out = '';
  for (const byte of Buffer.from(message, 'utf8')) {
    out += isUnreserved(byte)
      ? String.fromCharCode(byte)
      : `%${HEX[byte >> 4] ?? '0'}${HEX[byte & 15] ?? '0'}`;
  }
  return out;
}

export function decodeGrpcMessage(encoded: string): string {
  if (!encoded.includes('%')) return encoded;
  // Only runs of well-formed %XX escapes are bytes to decode; the rest stays.
  return encoded.replace(/(?:%[0-9A-Fa-f]{2})+/g, (run) =>
    Buffer.from(run.replaceAll('%', ''), 'hex').toString('utf8'),
  );
}
