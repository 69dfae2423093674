// The route's retry block and the cluster's circuit_breaker and
// retry_budget blocks: what loads, and the messages for mistakes in them.
import t from 'tap';
import { issues, SMALL_CONFIG } from '../helpers/config-lines.js';

/** SMALL_CONFIG with `lines` inserted into route `all` (after line 7). */
function withRoute(...lines: string[]): string[] {
  return [...SMALL_CONFIG.slice(0, 7), ...lines, ...SMALL_CONFIG.slice(7)];
}

void t.test('a full retry block, an empty one and the cluster blocks load', (t) => {
  t.same(
    issues(
      withRoute(
        '    retry:',
        '      retry_on: [unavailable, resource-exhausted, reset, connect-failure, refused-stream]',
        '      max_attempts: 5',
        '      per_try_timeout: 1s',
        '      backoff: { base: 25ms, max: 250ms }',
        '      buffer_limit: 64KiB',
        '      hold: 100ms',
      ),
    ),
    [],
  );
  t.same(issues(withRoute('    retry: {}')), []);
  t.same(
    issues([
      ...SMALL_CONFIG,
      '    circuit_breaker: { max_requests: 10, max_pending: 5, max_connections: 2, max_retries: 0 }',
      '    retry_budget: { budget_percent: 20, min_retry_concurrency: 3 }',
    ]),
    [],
  );
  t.end();
});

void t.test('max_attempts is capped at 5, as in gRFC A6', (t) => {
  t.same(issues(withRoute('    retry: { max_attempts: 6 }')), [
    'config.yaml:8:28 routes[0].retry.max_attempts: must be at most 5',
  ]);
  t.equal(issues(withRoute('    retry: { max_attempts: 0 }')).length, 1);
  t.end();
});

void t.test('an unknown retry condition lists the valid ones', (t) => {
  const found = issues(withRoute('    retry: { retry_on: [unavailable, 5xx] }'));
  t.equal(found.length, 1);
  t.match(found[0], /^config\.yaml:8:38 routes\[0\]\.retry\.retry_on\[1\]: expected one of: /);
  t.match(
    found[0],
    /unavailable, data-loss, unauthenticated, reset, connect-failure, refused-stream$/,
  );
  t.end();
});

void t.test('durations, sizes, ranges and unknown keys', (t) => {
  t.equal(issues(withRoute('    retry: { per_try_timeout: 100 }')).length, 1);
  t.equal(issues(withRoute('    retry: { buffer_limit: lots }')).length, 1);
  t.equal(issues(withRoute('    retry: { retry_on: [] }')).length, 1, 'at least one condition');
  t.match(issues(withRoute('    retry: { attempts: 3 }')), [/unknown key "attempts"/]);
  t.match(issues(withRoute('    retry: { backoff: { initial: 1s } }')), [/unknown key "initial"/]);
  t.equal(issues([...SMALL_CONFIG, '    retry_budget: { budget_percent: 101 }']).length, 1);
  t.equal(issues([...SMALL_CONFIG, '    circuit_breaker: { max_pending: 0 }']).length, 1);
  t.end();
});

void t.test('hedge: loads on an idempotent route; needs idempotent and excludes retry', (t) => {
  t.same(
    issues(
      withRoute(
        '    idempotent: true',
        '    hedge: { delay: 50ms, max_attempts: 3, non_fatal_on: [unavailable, reset] }',
      ),
    ),
    [],
  );
  t.same(issues(withRoute('    hedge: { delay: 50ms }')), [
    'config.yaml:8:5 routes[0].hedge: route "all": hedge sends each call to several backends; allowed only with idempotent: true on the route',
  ]);
  t.same(issues(withRoute('    idempotent: true', '    retry: {}', '    hedge: { delay: 50ms }')), [
    'config.yaml:10:5 routes[0].hedge: route "all" has both retry and hedge; keep one (a hedged call is already sent more than once)',
  ]);
  t.equal(
    issues(withRoute('    idempotent: true', '    hedge: {}')).length,
    1,
    'delay is required',
  );
  t.equal(
    issues(withRoute('    idempotent: true', '    hedge: { delay: 5ms, max_attempts: 1 }')).length,
    1,
    'at least 2 attempts',
  );
  t.end();
});
