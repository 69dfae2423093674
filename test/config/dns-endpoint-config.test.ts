// `{dns: name:port, refresh, weight}` endpoint entries: what loads and the
// messages for what does not.
import t from 'tap';
import { issues, UP_TO_ENDPOINTS } from '../helpers/config-lines.js';

const head = UP_TO_ENDPOINTS;

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
