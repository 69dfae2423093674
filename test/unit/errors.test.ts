// ProxyError's table, and how upstream RST_STREAM codes become ProxyErrors.
import http2 from 'node:http2';
import t from 'tap';
import {
  ERROR_TABLE,
  ProxyError,
  toProxyError,
  type ProxyErrorCode,
} from '../../src/errors/proxy-error.js';
import { GrpcStatus } from '../../src/grpc/status.js';
import { errorFromResetCode, resetCodeName } from '../../src/upstream/reset-errors.js';

const C = http2.constants;

function isProxyErrorCode(code: string): code is ProxyErrorCode {
  return Object.hasOwn(ERROR_TABLE, code);
}

const ALL_CODES: ProxyErrorCode[] = Object.keys(ERROR_TABLE).filter(isProxyErrorCode);

void t.test(
  'ERROR_TABLE: every code maps to a non-OK gRPC status and an HTTP error status',
  (t) => {
    t.ok(ALL_CODES.length >= 16, `has the documented codes (${ALL_CODES.length})`);
    for (const code of ALL_CODES) {
      const { grpcStatus, httpStatus } = ERROR_TABLE[code];
      t.ok(
        Number.isInteger(grpcStatus) && grpcStatus >= 1 && grpcStatus <= 16,
        `${code}: gRPC ${grpcStatus}`,
      );
      t.not(grpcStatus, GrpcStatus.OK, `${code} is not OK`);
      t.ok(
        Number.isInteger(httpStatus) && httpStatus >= 400 && httpStatus <= 599,
        `${code}: HTTP ${httpStatus}`,
      );
    }
    t.end();
  },
);

void t.test('ERROR_TABLE: the documented mappings', (t) => {
  const expected: Record<ProxyErrorCode, [number, number]> = {
    no_route: [GrpcStatus.UNIMPLEMENTED, 404],
    unsupported_media_type: [GrpcStatus.INTERNAL, 415],
    bad_request: [GrpcStatus.INTERNAL, 400],
    no_healthy_endpoint: [GrpcStatus.UNAVAILABLE, 503],
    cluster_overloaded: [GrpcStatus.UNAVAILABLE, 503],
    upstream_connect_failed: [GrpcStatus.UNAVAILABLE, 503],
    upstream_connection_lost: [GrpcStatus.UNAVAILABLE, 502],
    upstream_refused_stream: [GrpcStatus.UNAVAILABLE, 503],
    upstream_timeout: [GrpcStatus.DEADLINE_EXCEEDED, 504],
    upstream_cancelled: [GrpcStatus.CANCELLED, 502],
    upstream_overloaded: [GrpcStatus.RESOURCE_EXHAUSTED, 502],
    upstream_inadequate_security: [GrpcStatus.PERMISSION_DENIED, 502],
    upstream_reset: [GrpcStatus.INTERNAL, 502],
    upstream_protocol_error: [GrpcStatus.INTERNAL, 502],
    message_too_large: [GrpcStatus.RESOURCE_EXHAUSTED, 413],
    deadline_exceeded: [GrpcStatus.DEADLINE_EXCEEDED, 504],
    downstream_cancelled: [GrpcStatus.CANCELLED, 499],
    shutting_down: [GrpcStatus.UNAVAILABLE, 503],
    internal: [GrpcStatus.INTERNAL, 500],
  };
  t.same(
    Object.fromEntries(
      ALL_CODES.map((code) => [code, [ERROR_TABLE[code].grpcStatus, ERROR_TABLE[code].httpStatus]]),
    ),
    expected,
  );
  t.end();
});

void t.test('ProxyError takes its statuses from the table', (t) => {
  for (const code of ALL_CODES) {
    const error = new ProxyError(code, `message for ${code}`);
    t.ok(error instanceof Error, `${code} is an Error`);
    t.equal(error.name, 'ProxyError');
    t.equal(error.code, code);
    t.equal(error.message, `message for ${code}`);
    t.equal(error.grpcStatus, ERROR_TABLE[code].grpcStatus, `${code} gRPC status`);
    t.equal(error.httpStatus, ERROR_TABLE[code].httpStatus, `${code} HTTP status`);
    t.notOk('cause' in error, `${code}: no cause unless given`);
  }
  t.end();
});

void t.test('ProxyError options: gRPC status override and cause', (t) => {
  const cause = new Error('root');
  const error = new ProxyError('upstream_protocol_error', 'not gRPC', {
    grpcStatus: GrpcStatus.UNAUTHENTICATED,
    cause,
  });
  t.equal(error.grpcStatus, GrpcStatus.UNAUTHENTICATED, 'override wins');
  t.equal(error.httpStatus, 502, 'HTTP status still from the table');
  t.equal(error.cause, cause);
  t.end();
});

void t.test('toProxyError', (t) => {
  const existing = new ProxyError('no_route', 'nope');
  t.equal(toProxyError(existing), existing, 'a ProxyError is kept as is');

  const cases: { thrown: unknown; message: string }[] = [
    { thrown: new Error('boom'), message: 'internal proxy error: boom' },
    { thrown: new TypeError('bad type'), message: 'internal proxy error: bad type' },
    { thrown: 'a string', message: 'internal proxy error: a string' },
    { thrown: 42, message: 'internal proxy error: 42' },
    { thrown: undefined, message: 'internal proxy error: undefined' },
  ];
  for (const c of cases) {
    const wrapped = toProxyError(c.thrown);
    t.ok(wrapped instanceof ProxyError);
    t.equal(wrapped.code, 'internal');
    t.equal(wrapped.grpcStatus, GrpcStatus.INTERNAL);
    t.equal(wrapped.httpStatus, 500);
    t.equal(wrapped.message, c.message);
    if (c.thrown !== undefined) t.equal(wrapped.cause, c.thrown, 'keeps the cause');
  }
  t.end();
});

void t.test('RST_STREAM codes → ProxyError (PROTOCOL-HTTP2.md)', (t) => {
  const cases: [number, string, ProxyErrorCode, number][] = [
    [C.NGHTTP2_NO_ERROR, 'NO_ERROR', 'upstream_reset', GrpcStatus.INTERNAL],
    [C.NGHTTP2_PROTOCOL_ERROR, 'PROTOCOL_ERROR', 'upstream_reset', GrpcStatus.INTERNAL],
    [C.NGHTTP2_INTERNAL_ERROR, 'INTERNAL_ERROR', 'upstream_reset', GrpcStatus.INTERNAL],
    [C.NGHTTP2_FLOW_CONTROL_ERROR, 'FLOW_CONTROL_ERROR', 'upstream_reset', GrpcStatus.INTERNAL],
    [C.NGHTTP2_SETTINGS_TIMEOUT, 'SETTINGS_TIMEOUT', 'upstream_reset', GrpcStatus.INTERNAL],
    [C.NGHTTP2_STREAM_CLOSED, 'STREAM_CLOSED', 'upstream_reset', GrpcStatus.INTERNAL],
    [C.NGHTTP2_FRAME_SIZE_ERROR, 'FRAME_SIZE_ERROR', 'upstream_reset', GrpcStatus.INTERNAL],
    [C.NGHTTP2_REFUSED_STREAM, 'REFUSED_STREAM', 'upstream_refused_stream', GrpcStatus.UNAVAILABLE],
    [C.NGHTTP2_CANCEL, 'CANCEL', 'upstream_cancelled', GrpcStatus.CANCELLED],
    [C.NGHTTP2_COMPRESSION_ERROR, 'COMPRESSION_ERROR', 'upstream_reset', GrpcStatus.INTERNAL],
    [C.NGHTTP2_CONNECT_ERROR, 'CONNECT_ERROR', 'upstream_reset', GrpcStatus.INTERNAL],
    [
      C.NGHTTP2_ENHANCE_YOUR_CALM,
      'ENHANCE_YOUR_CALM',
      'upstream_overloaded',
      GrpcStatus.RESOURCE_EXHAUSTED,
    ],
    [
      C.NGHTTP2_INADEQUATE_SECURITY,
      'INADEQUATE_SECURITY',
      'upstream_inadequate_security',
      GrpcStatus.PERMISSION_DENIED,
    ],
    [C.NGHTTP2_HTTP_1_1_REQUIRED, 'HTTP_1_1_REQUIRED', 'upstream_reset', GrpcStatus.INTERNAL],
    [99, 'code 99', 'upstream_reset', GrpcStatus.INTERNAL],
  ];
  for (const [rst, name, code, grpcStatus] of cases) {
    t.equal(resetCodeName(rst), name, `name of ${rst}`);
    const error = errorFromResetCode(rst, '10.0.0.7:50051');
    t.ok(error instanceof ProxyError);
    t.equal(error.code, code, `${name} → ${code}`);
    t.equal(error.grpcStatus, grpcStatus, `${name} → gRPC ${grpcStatus}`);
    t.equal(error.httpStatus, ERROR_TABLE[code].httpStatus);
    t.equal(error.message, `upstream 10.0.0.7:50051 reset the stream (${name})`);
  }
  t.end();
});

void t.test('reset code names agree with node:http2 constants', (t) => {
  for (let code = 0; code <= 13; code++) {
    const name = resetCodeName(code);
    t.equal((C as Record<string, unknown>)[`NGHTTP2_${name}`], code, `${code} is ${name}`);
  }
  t.end();
});
