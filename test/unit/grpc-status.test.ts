// gRPC status codes, their spellings, and the HTTP → gRPC status mapping.
import t from 'tap';
import { grpcStatusFromHttpStatus, isGrpcContentType } from '../../src/grpc/http-status-mapping.js';
import {
  GrpcStatus,
  grpcStatusConfigName,
  grpcStatusName,
  parseGrpcStatusConfigName,
  parseGrpcStatusHeader,
  type GrpcStatusCode,
} from '../../src/grpc/status.js';

// doc/statuscodes.md, written out independently of the source table.
const CODES: [number, string, string][] = [
  [0, 'OK', 'ok'],
  [1, 'CANCELLED', 'cancelled'],
  [2, 'UNKNOWN', 'unknown'],
  [3, 'INVALID_ARGUMENT', 'invalid-argument'],
  [4, 'DEADLINE_EXCEEDED', 'deadline-exceeded'],
  [5, 'NOT_FOUND', 'not-found'],
  [6, 'ALREADY_EXISTS', 'already-exists'],
  [7, 'PERMISSION_DENIED', 'permission-denied'],
  [8, 'RESOURCE_EXHAUSTED', 'resource-exhausted'],
  [9, 'FAILED_PRECONDITION', 'failed-precondition'],
  [10, 'ABORTED', 'aborted'],
  [11, 'OUT_OF_RANGE', 'out-of-range'],
  [12, 'UNIMPLEMENTED', 'unimplemented'],
  [13, 'INTERNAL', 'internal'],
  [14, 'UNAVAILABLE', 'unavailable'],
  [15, 'DATA_LOSS', 'data-loss'],
  [16, 'UNAUTHENTICATED', 'unauthenticated'],
];

void t.test('GrpcStatus has exactly the 17 standard codes', (t) => {
  t.same(
    Object.entries(GrpcStatus),
    CODES.map(([code, name]) => [name, code]),
  );
  t.end();
});

void t.test('names and config names, both directions', (t) => {
  for (const [code, name, configName] of CODES) {
    t.equal(grpcStatusName(code), name, `name of ${code}`);
    t.equal(grpcStatusConfigName(code as GrpcStatusCode), configName, `config name of ${code}`);
    t.equal(parseGrpcStatusConfigName(configName), code, `parse ${configName}`);
  }
  t.end();
});

void t.test('names of codes outside the table', (t) => {
  const cases: [number, string][] = [
    [17, 'CODE_17'],
    [99, 'CODE_99'],
    [-1, 'CODE_-1'],
  ];
  for (const [code, expected] of cases) t.equal(grpcStatusName(code), expected);
  t.end();
});

void t.test('parsing config names', (t) => {
  const cases: [string, number | undefined][] = [
    ['resource-exhausted', 8],
    ['RESOURCE_EXHAUSTED', 8],
    ['Resource-Exhausted', 8],
    ['ok', 0],
    ['unauthenticated', 16],
    ['', undefined],
    ['bogus', undefined],
    ['resource exhausted', undefined],
    ['code-8', undefined],
    ['8', undefined],
    ['length', undefined],
    ['constructor', undefined],
  ];
  for (const [name, expected] of cases) {
    t.equal(parseGrpcStatusConfigName(name), expected, JSON.stringify(name));
  }
  t.end();
});

void t.test('parsing the grpc-status header', (t) => {
  const cases: [string, number | undefined][] = [
    ['0', 0],
    ['1', 1],
    ['14', 14],
    ['16', 16],
    ['17', 17],
    ['99', 99],
    ['4294967295', 4294967295],
    ['', undefined],
    ['00', undefined],
    ['01', undefined],
    ['-1', undefined],
    ['+1', undefined],
    [' 1', undefined],
    ['1 ', undefined],
    ['1.0', undefined],
    ['1e1', undefined],
    ['0x1', undefined],
    ['OK', undefined],
    ['12345678901', undefined],
    ['١', undefined],
  ];
  for (const [value, expected] of cases) {
    t.equal(parseGrpcStatusHeader(value), expected, JSON.stringify(value));
  }
  t.end();
});

void t.test('HTTP status → gRPC status (doc/http-grpc-status-mapping.md)', (t) => {
  const cases: [number, number][] = [
    [400, GrpcStatus.INTERNAL],
    [401, GrpcStatus.UNAUTHENTICATED],
    [403, GrpcStatus.PERMISSION_DENIED],
    [404, GrpcStatus.UNIMPLEMENTED],
    [429, GrpcStatus.UNAVAILABLE],
    [502, GrpcStatus.UNAVAILABLE],
    [503, GrpcStatus.UNAVAILABLE],
    [504, GrpcStatus.UNAVAILABLE],
    // "All other codes: UNKNOWN."
    [200, GrpcStatus.UNKNOWN],
    [204, GrpcStatus.UNKNOWN],
    [301, GrpcStatus.UNKNOWN],
    [405, GrpcStatus.UNKNOWN],
    [415, GrpcStatus.UNKNOWN],
    [500, GrpcStatus.UNKNOWN],
    [501, GrpcStatus.UNKNOWN],
    [505, GrpcStatus.UNKNOWN],
  ];
  for (const [http, grpc] of cases) {
    t.equal(grpcStatusFromHttpStatus(http), grpc, `${http} → ${grpcStatusName(grpc)}`);
  }
  t.end();
});

void t.test('isGrpcContentType', (t) => {
  const cases: [string | undefined, boolean][] = [
    ['application/grpc', true],
    ['application/grpc+proto', true],
    ['application/grpc+json', true],
    ['application/grpc;charset=utf-8', true],
    ['application/grpc+proto;charset=utf-8', true],
    ['application/grpc-web', false],
    ['application/grpc-web+proto', false],
    ['application/grpc-web-text', false],
    ['application/grpcx', false],
    ['application/grp', false],
    ['application/json', false],
    ['text/plain', false],
    ['xapplication/grpc', false],
    ['', false],
    [undefined, false],
  ];
  for (const [value, expected] of cases) {
    t.equal(isGrpcContentType(value), expected, JSON.stringify(value));
  }
  t.end();
});
