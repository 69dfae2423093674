// Metric label values stay bounded: gRPC service and method only from
// gRPC routes, at most N method names per service, status names from the table.
import t from 'tap';
import { grpcCodeLabel } from '../../src/metrics/call-metrics.js';
import { GrpcMethodLabeler } from '../../src/metrics/grpc-method-labels.js';

const UNKNOWN = { grpc_service: 'unknown', grpc_method: 'unknown' };

void t.test('a gRPC route splits the path; anything else is unknown', (t) => {
  const labeler = new GrpcMethodLabeler();
  t.same(labeler.labels('/pkg.Svc/Get', true), { grpc_service: 'pkg.Svc', grpc_method: 'Get' });
  t.same(labeler.labels('/pkg.Svc/Get', false), UNKNOWN, 'not a gRPC route');
  t.same(labeler.labels('/pkg.Svc', true), UNKNOWN, 'no method part');
  t.same(
    labeler.labels('/pkg.Svc/a/b', true),
    { grpc_service: 'pkg.Svc', grpc_method: 'unknown' },
    'not a proto identifier',
  );
  t.end();
});

void t.test('at most N method names per service, first seen kept', (t) => {
  const labeler = new GrpcMethodLabeler(2);
  t.equal(labeler.labels('/s.S/A', true).grpc_method, 'A');
  t.equal(labeler.labels('/s.S/B', true).grpc_method, 'B');
  t.equal(labeler.labels('/s.S/C', true).grpc_method, 'unknown', 'over the budget');
  t.equal(labeler.labels('/s.S/A', true).grpc_method, 'A', 'admitted names stay');
  t.equal(labeler.labels('/t.T/C', true).grpc_method, 'C', 'budgets are per service');
  t.end();
});

void t.test('one labels object per label set (CallMetrics caches by identity)', (t) => {
  const labeler = new GrpcMethodLabeler(1);
  t.equal(labeler.labels('/s.S/A', true), labeler.labels('/s.S/A', true), 'admitted');
  t.equal(labeler.labels('/s.S/B', true), labeler.labels('/s.S/C', true), 'refused: over budget');
  t.equal(labeler.labels('/s.S/a-b', true), labeler.labels('/s.S/B', true), 'refused: not a name');
  t.same(labeler.labels('/s.S/B', true), { grpc_service: 's.S', grpc_method: 'unknown' });
  t.not(labeler.labels('/t.T/a-b', true), labeler.labels('/s.S/a-b', true), 'per service');
  t.equal(labeler.labels('/x', true), labeler.labels('/y', false), 'unknown');
  t.end();
});

void t.test('grpc_code: names from the table, UNKNOWN outside it', (t) => {
  t.equal(grpcCodeLabel(0), 'OK');
  t.equal(grpcCodeLabel(14), 'UNAVAILABLE');
  t.equal(grpcCodeLabel(99), 'UNKNOWN');
  t.equal(grpcCodeLabel(undefined), 'UNKNOWN');
  t.end();
});
