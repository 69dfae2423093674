// The cluster's outlier_detection block: what loads, and the messages for
// mistakes in it.
import t from 'tap';
import { issues, SMALL_CONFIG } from '../helpers/config-lines.js';

const base = SMALL_CONFIG;

void t.test('a full block and an empty one load', (t) => {
  t.same(
    issues([
      ...base,
      '    outlier_detection:',
      '      consecutive_failures: 3',
      '      failure_codes: [unavailable, deadline-exceeded, resource-exhausted]',
      '      base_ejection_time: 10s',
      '      max_ejection_time: 2m',
      '      max_ejection_percent: 100',
    ]),
    [],
  );
  t.same(issues([...base, '    outlier_detection: {}']), []);
  t.end();
});

void t.test('an unknown status name lists the valid ones (config spelling, no ok)', (t) => {
  const found = issues([
    ...base,
    '    outlier_detection: { failure_codes: [unavailable, NOT_FOUND] }',
  ]);
  t.same(found, [
    'config.yaml:12:55 clusters[0].outlier_detection.failure_codes[1]: expected one of: cancelled, unknown, invalid-argument, deadline-exceeded, not-found, already-exists, permission-denied, resource-exhausted, failed-precondition, aborted, out-of-range, unimplemented, internal, unavailable, data-loss, unauthenticated',
  ]);
  t.end();
});

void t.test('ranges and unknown keys', (t) => {
  t.equal(issues([...base, '    outlier_detection: { consecutive_failures: 0 }']).length, 1);
  t.equal(issues([...base, '    outlier_detection: { max_ejection_percent: 101 }']).length, 1);
  t.equal(issues([...base, '    outlier_detection: { base_ejection_time: 30 }']).length, 1);
  t.match(issues([...base, '    outlier_detection: { interval: 10s }']), [
    /unknown key "interval"/,
  ]);
  t.end();
});
