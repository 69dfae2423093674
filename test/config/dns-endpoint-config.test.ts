// `{dns: name:port, refresh, weight}` endpoint entries: what loads and the
// messages for what does not.
import t from 'tap';
import { ConfigError, formatIssue } from '../../src/config/config-error.js';
import { parseConfigText } from '../../src/config/load-config.js';

function issues(lines: readonly string[]): string[] {
  try {
    parseConfigText(`${lines.join('\n')}\n`, 'config.yaml');
    return [];
  } catch (error) {
    if (!(error instanceof ConfigError)) throw error;
    return error.issues.map(formatIssue);
  }
}

/** A valid config up to `endpoints:` (line 10); the endpoint lines follow. */
const head = [
  'listeners:', //                  1
  '  - name: public', //            2
  '    address: 0.0.0.0:8080', //   3
  'routes:', //                     4
  '  - name: all', //               5
  '    match: {}', //               6
  '    cluster: backends', //       7
  'clusters:', //                   8
  '  - name: backends', //          9
  '    endpoints:', //             10
];

void t.test('dns entries load, alone or beside the other shapes', (t) => {
  t.same(issues([...head, '      - { dns: greeter.internal:50051 }']), [], 'refresh defaults');
  t.same(
    issues([...head, '      - { dns: greeter.internal:50051, refresh: 100ms, weight: 3 }']),
    [],
  );
  t.same(
    issues([
      ...head,
      '      - 10.0.0.7:50051',
      '      - { address: greeter-2.internal:50051, weight: 2 }',
      '      - { dns: greeter.internal:50051, refresh: 30s }',
    ]),
    [],
  );
  t.end();
});

void t.test('dns entries: clear messages for each mistake', (t) => {
  t.same(issues([...head, '      - { dns: greeter.internal:50051, refresh: 50ms }']), [
    'config.yaml:11:49 clusters[0].endpoints[0].refresh: expected a duration of at least 100ms, such as 5s',
  ]);
  t.same(issues([...head, '      - { dns: greeter.internal:50051, refresh: 5 }']), [
    'config.yaml:11:49 clusters[0].endpoints[0].refresh: expected a duration of at least 100ms, such as 5s, got integer 5',
  ]);
  t.same(issues([...head, '      - { dns: greeter.internal }']), [
    'config.yaml:11:16 clusters[0].endpoints[0].dns: expected name:port, a DNS name to resolve (port 1-65535); put an IP address in address',
  ]);
  t.same(issues([...head, '      - { dns: 10.0.0.7:50051 }']), [
    'config.yaml:11:16 clusters[0].endpoints[0].dns: expected name:port, a DNS name to resolve (port 1-65535); put an IP address in address',
  ]);
  t.same(issues([...head, '      - { dns: greeter.internal:50051, weight: 0 }']), [
    'config.yaml:11:48 clusters[0].endpoints[0].weight: must be at least 1',
  ]);
  t.end();
});
