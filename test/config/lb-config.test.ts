// Load-balancing keys of a cluster: policies, their options and the checks
// that tie hash_on to ring_hash.
import t from 'tap';
import { issues, SMALL_CONFIG } from '../helpers/config-lines.js';

/** A valid config whose one cluster ends at line 11; cluster keys go after it. */
const base = SMALL_CONFIG;

void t.test('every policy name loads', (t) => {
  for (const policy of ['round_robin', 'least_request', 'random', 'pick_first']) {
    t.same(issues([...base, `    lb_policy: ${policy}`]), [], policy);
  }
  t.same(
    issues([...base, '    lb_policy: ring_hash', '    hash_on: { header: x-user-id }']),
    [],
    'ring_hash with hash_on',
  );
  t.same(
    issues([...base, '    lb_policy: least_request', '    choice_count: 3']),
    [],
    'least_request with choice_count',
  );
  t.same(issues([...base, '    panic_threshold: 0']), [], 'panic_threshold 0');
  t.same(issues([...base, '    panic_threshold: 100']), [], 'panic_threshold 100');
  t.end();
});

void t.test('ring_hash without hash_on is an error at lb_policy', (t) => {
  t.same(issues([...base, '    lb_policy: ring_hash']), [
    'config.yaml:12:16 clusters[0].lb_policy: cluster "backends": lb_policy ring_hash needs hash_on: { header: NAME }, the request header to hash on',
  ]);
  t.end();
});

void t.test('hash_on with another policy is an error at hash_on', (t) => {
  t.same(issues([...base, '    lb_policy: random', '    hash_on: { header: x-user-id }']), [
    'config.yaml:13:5 clusters[0].hash_on: cluster "backends": hash_on applies only to lb_policy ring_hash, not random',
  ]);
  t.same(issues([...base, '    hash_on: { header: x-user-id }']), [
    'config.yaml:12:5 clusters[0].hash_on: cluster "backends": hash_on applies only to lb_policy ring_hash, not round_robin (the default)',
  ]);
  t.end();
});

void t.test('ranges and shapes of the options', (t) => {
  t.same(issues([...base, '    choice_count: 1']), [
    'config.yaml:12:19 clusters[0].choice_count: must be at least 2',
  ]);
  t.same(issues([...base, '    panic_threshold: 101']), [
    'config.yaml:12:22 clusters[0].panic_threshold: must be at most 100',
  ]);
  t.same(issues([...base, '    panic_threshold: -1']), [
    'config.yaml:12:22 clusters[0].panic_threshold: must be at least 0',
  ]);
  const bad = issues([...base, '    lb_policy: ring_hash', '    hash_on: { header: X-User }']);
  t.equal(bad.length, 1, bad.join('\n'));
  t.match(bad[0], /^config\.yaml:13:24 clusters\[0\]\.hash_on\.header: /);
  const noHeader = issues([...base, '    lb_policy: ring_hash', '    hash_on: {}']);
  t.match(noHeader.join('\n'), /clusters\[0\]\.hash_on/, 'hash_on needs its header');
  t.end();
});
