// grpc-message percent-encoding (gRPC PROTOCOL-HTTP2.md, "Status-Message").
import t from 'tap';
import { decodeGrpcMessage, encodeGrpcMessage } from '../../src/grpc/grpc-message.js';

// The string and its encoding from gRPC's interop test "special_status_message".
const INTEROP_MESSAGE = '\t\ntest with whitespace\r\nand Unicode BMP ☺ and non-BMP 😈\t\n';
const INTEROP_ENCODED =
  '%09%0Atest with whitespace%0D%0Aand Unicode BMP %E2%98%BA and non-BMP %F0%9F%98%88%09%0A';

void t.test('encoding: table', (t) => {
  const cases: [string, string][] = [
    ['', ''],
    ['plain text', 'plain text'],
    [' ', ' '],
    ['~', '~'],
    ['!"#$&\'()*+,-./:;<=>?@[\\]^_`{|}', '!"#$&\'()*+,-./:;<=>?@[\\]^_`{|}'],
    ['%', '%25'],
    ['100%', '100%25'],
    ['%41', '%2541'],
    ['\t', '%09'],
    ['\n', '%0A'],
    ['\r', '%0D'],
    ['\0', '%00'],
    ['\x1f', '%1F'],
    ['\x7f', '%7F'],
    ['é', '%C3%A9'],
    ['\u00ff', '%C3%BF'],
    ['☺', '%E2%98%BA'],
    ['😈', '%F0%9F%98%88'],
    ['a\nb', 'a%0Ab'],
    [INTEROP_MESSAGE, INTEROP_ENCODED],
  ];
  for (const [message, encoded] of cases) {
    t.equal(encodeGrpcMessage(message), encoded, JSON.stringify(message));
  }
  t.end();
});

void t.test('encoding: every ASCII character', (t) => {
  for (let code = 0; code <= 0x7f; code++) {
    const ch = String.fromCharCode(code);
    const printable = code >= 0x20 && code <= 0x7e && code !== 0x25;
    const expected = printable ? ch : `%${code.toString(16).toUpperCase().padStart(2, '0')}`;
    // Also inside a message that needs encoding, to take the slow path.
    t.equal(encodeGrpcMessage(ch), expected, `0x${code.toString(16)}`);
    t.equal(encodeGrpcMessage(`\n${ch}`), `%0A${expected}`, `0x${code.toString(16)} after \\n`);
  }
  t.end();
});

void t.test('encoding: output is printable ASCII with upper-case escapes', (t) => {
  const samples = [
    INTEROP_MESSAGE,
    'Ωμέγα 日本語 \u{10FFFF} \u0000\u0001 ÿ',
    Array.from({ length: 256 }, (_, i) => String.fromCharCode(i)).join(''),
  ];
  for (const sample of samples) {
    const encoded = encodeGrpcMessage(sample);
    t.match(encoded, /^[\x20-\x7e]*$/, 'only printable ASCII');
    const escapes = encoded.match(/%../g) ?? [];
    t.ok(escapes.length > 0);
    t.ok(
      escapes.every((e) => /^%[0-9A-F]{2}$/.test(e)),
      'every % starts an upper-case two-digit escape',
    );
  }
  t.end();
});

void t.test('decoding: table', (t) => {
  const cases: [string, string][] = [
    ['', ''],
    ['plain', 'plain'],
    ['%25', '%'],
    ['%41', 'A'],
    ['%20', ' '],
    ['a%0Ab', 'a\nb'],
    ['%E2%98%BA', '☺'],
    ['%e2%98%ba', '☺'],
    ['%F0%9F%98%88', '😈'],
    ['%2541', '%41'],
    [INTEROP_ENCODED, INTEROP_MESSAGE],
  ];
  for (const [encoded, message] of cases) {
    t.equal(decodeGrpcMessage(encoded), message, JSON.stringify(encoded));
  }
  t.end();
});

void t.test('decoding never throws; malformed escapes stay as they are', (t) => {
  const cases: [string, string][] = [
    ['%', '%'],
    ['%%', '%%'],
    ['%G1', '%G1'],
    ['%1G', '%1G'],
    ['%4', '%4'],
    ['a%4', 'a%4'],
    ['100%', '100%'],
    ['%%41', '%A'],
    ['%4%41', '%4A'],
    ['x%zz%41y', 'x%zzAy'],
    ['% 41', '% 41'],
    ['%-1', '%-1'],
    ['%+1', '%+1'],
  ];
  for (const [encoded, expected] of cases) {
    let decoded: string | undefined;
    t.doesNotThrow(() => {
      decoded = decodeGrpcMessage(encoded);
    }, JSON.stringify(encoded));
    t.equal(decoded, expected, JSON.stringify(encoded));
  }
  t.end();
});

void t.test('decoding bytes that are not UTF-8 gives replacement characters, not errors', (t) => {
  const cases: [string, string][] = [
    ['%FF', '\uFFFD'],
    ['%C3', '\uFFFD'],
    ['%C3%', '\uFFFD%'],
    ['%80abc', '\uFFFDabc'],
  ];
  for (const [encoded, expected] of cases) {
    t.equal(decodeGrpcMessage(encoded), expected, JSON.stringify(encoded));
  }
  t.end();
});

void t.test('round trip', (t) => {
  const messages = [
    INTEROP_MESSAGE,
    '',
    'plain',
    '%',
    '%%%',
    '%41 is not A',
    '100% sure',
    '\0\x01\x02',
    'Ωμέγα 日本語',
    '😈😈',
    'mixed\tstuff % 😀 é\r\n',
    Array.from({ length: 0x250 }, (_, i) => String.fromCharCode(i)).join(''),
  ];
  for (const message of messages) {
    t.equal(decodeGrpcMessage(encodeGrpcMessage(message)), message, JSON.stringify(message));
  }
  t.end();
});
