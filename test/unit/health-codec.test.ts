import t from 'tap';
import {
  ServingStatus,
  decodeHealthCheckRequest,
  decodeHealthCheckResponse,
  encodeHealthCheckRequest,
  encodeHealthCheckResponse,
  frameGrpcMessage,
  unframeSingleMessage,
} from '../../src/grpc/health-codec.js';

void t.test('HealthCheckRequest: service is field 1, length-delimited', (t) => {
  t.same(encodeHealthCheckRequest('a.B'), Buffer.from([0x0a, 3, 0x61, 0x2e, 0x42]));
  t.same(encodeHealthCheckRequest(''), Buffer.alloc(0), 'proto3 default left out');
  t.same(decodeHealthCheckRequest(Buffer.alloc(0)), { service: '' });
  t.same(decodeHealthCheckRequest(Buffer.from([0x0a, 3, 0x61, 0x2e, 0x42])), { service: 'a.B' });
  const long = 'x'.repeat(300);
  const encoded = encodeHealthCheckRequest(long);
  t.same(encoded.subarray(0, 3), Buffer.from([0x0a, 0xac, 0x02]), 'two-byte varint length');
  t.same(decodeHealthCheckRequest(encoded), { service: long });
  t.end();
});

void t.test('HealthCheckRequest: unknown fields of every wire type are skipped', (t) => {
  const bytes = Buffer.from([
    0x10,
    0x96,
    0x01, // field 2 varint 150
    0x19,
    1,
    2,
    3,
    4,
    5,
    6,
    7,
    8, // field 3 fixed64
    0x22,
    2,
    0x61,
    0x62, // field 4 bytes
    0x2d,
    1,
    2,
    3,
    4, // field 5 fixed32
    0x0a,
    1,
    0x73, // field 1 "s"
  ]);
  t.same(decodeHealthCheckRequest(bytes), { service: 's' });
  t.end();
});

void t.test('HealthCheckRequest: malformed bytes throw', (t) => {
  t.throws(() => decodeHealthCheckRequest(Buffer.from([0x0a, 5, 0x61])), /past the end/);
  t.throws(() => decodeHealthCheckRequest(Buffer.from([0x0a, 0x80])), /truncated varint/);
  t.throws(() => decodeHealthCheckRequest(Buffer.from([0x0b])), /wire type 3/);
  t.throws(() => decodeHealthCheckRequest(Buffer.from([0x00, 0x00])), /field number 0/);
  t.throws(() => decodeHealthCheckRequest(Buffer.alloc(11, 0xff)), /longer than 10/);
  t.end();
});

void t.test('HealthCheckResponse: status is field 1, varint; UNKNOWN is empty', (t) => {
  t.same(encodeHealthCheckResponse(ServingStatus.SERVING), Buffer.from([0x08, 1]));
  t.same(encodeHealthCheckResponse(ServingStatus.NOT_SERVING), Buffer.from([0x08, 2]));
  t.same(encodeHealthCheckResponse(ServingStatus.SERVICE_UNKNOWN), Buffer.from([0x08, 3]));
  t.same(encodeHealthCheckResponse(ServingStatus.UNKNOWN), Buffer.alloc(0));
  t.same(decodeHealthCheckResponse(Buffer.from([0x08, 2])), { status: 2 });
  t.same(decodeHealthCheckResponse(Buffer.alloc(0)), { status: 0 });
  t.end();
});

void t.test('gRPC framing: one uncompressed length-prefixed message', (t) => {
  const framed = frameGrpcMessage(Buffer.from([0x08, 1]));
  t.same(framed, Buffer.from([0, 0, 0, 0, 2, 0x08, 1]));
  t.same(unframeSingleMessage(framed), { ok: true, message: Buffer.from([0x08, 1]) });
  t.same(unframeSingleMessage(frameGrpcMessage(Buffer.alloc(0))), {
    ok: true,
    message: Buffer.alloc(0),
  });
  t.match(unframeSingleMessage(Buffer.alloc(0)), { ok: false, reason: /no complete message/ });
  t.match(unframeSingleMessage(Buffer.from([1, 0, 0, 0, 0])), { ok: false, reason: /compressed/ });
  t.match(unframeSingleMessage(Buffer.from([0, 0, 0, 0, 2, 8])), {
    ok: false,
    reason: /truncated/,
  });
  t.match(unframeSingleMessage(Buffer.concat([framed, framed])), {
    ok: false,
    reason: /more than one/,
  });
  t.end();
});
