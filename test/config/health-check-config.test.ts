// Cluster `health_check`: exactly one checker kind, and the shapes of its keys.
import t from 'tap';
import { issues, SMALL_CONFIG } from '../helpers/config-lines.js';

/** A valid config whose one cluster ends at line 11; cluster keys go after it. */
const base = SMALL_CONFIG;

void t.test('each checker kind loads, with and without options', (t) => {
  for (const lines of [
    ['    health_check: { grpc: {} }'],
    ['    health_check: { grpc: { service: helloworld.Greeter, unimplemented_is_healthy: true } }'],
    ['    health_check: { http: {} }'],
    ['    health_check: { http: { path: /ready, expected_statuses: [200, 204], port: 8081 } }'],
    ['    health_check: { tcp: {} }'],
    [
      '    health_check:',
      '      tcp: {}',
      '      interval: 100ms',
      '      timeout: 50ms',
      '      unhealthy_threshold: 1',
      '      healthy_threshold: 1',
    ],
  ]) {
    t.same(issues([...base, ...lines]), [], lines.join(' '));
  }
  t.end();
});

void t.test('no checker kind is an error at health_check', (t) => {
  t.same(issues([...base, '    health_check: { interval: 1s }']), [
    'config.yaml:12:5 clusters[0].health_check: cluster "backends": health_check needs one checker: grpc: {}, http: { path: /healthz } or tcp: {}',
  ]);
  t.end();
});

void t.test('two checker kinds is an error at the second', (t) => {
  t.same(issues([...base, '    health_check:', '      grpc: {}', '      tcp: {}']), [
    'config.yaml:14:7 clusters[0].health_check.tcp: cluster "backends": health_check has grpc and tcp; give exactly one checker',
  ]);
  t.end();
});

void t.test('shapes and ranges', (t) => {
  t.match(
    issues([...base, '    health_check: { tcp: {}, unhealthy_threshold: 0 }']).join('\n'),
    /unhealthy_threshold: must be at least 1/,
  );
  t.match(
    issues([...base, '    health_check: { http: { path: healthz } }']).join('\n'),
    /health_check\.http\.path/,
  );
  t.match(
    issues([...base, '    health_check: { http: { expected_statuses: [] } }']).join('\n'),
    /expected_statuses/,
  );
  t.match(
    issues([...base, '    health_check: { tcp: {}, interval: 5 }']).join('\n'),
    /health_check\.interval/,
  );
  t.match(
    issues([...base, '    health_check: { tcp: { port: 1 } }']).join('\n'),
    /health_check\.tcp/,
  );
  t.match(
    issues([...base, '    health_check: { grpc: {}, unhealthy: 2 }']).join('\n'),
    /health_check/,
  );
  t.end();
});
