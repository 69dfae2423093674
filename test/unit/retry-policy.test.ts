// Retry decisions without timers: full-jitter back-off, pushback parsing,
// which failures a policy retries, and one call's retry bookkeeping, with an
// injected random source and explicit times.
import t from 'tap';
import { RetryBudget } from '../../src/breaker/retry-budget.js';
import { ProxyError } from '../../src/errors/proxy-error.js';
import { parsePushback } from '../../src/grpc/retry-pushback.js';
import { GrpcStatus } from '../../src/grpc/status.js';
import { CallRetries } from '../../src/retry/call-retries.js';
import { fullJitterBackoffMs } from '../../src/retry/full-jitter.js';
import { RetryPolicy } from '../../src/retry/retry-policy.js';

void t.test('full jitter: uniform in [0, min(base × 2^(n-1), max))', (t) => {
  const top = 0.999999;
  t.equal(
    fullJitterBackoffMs(1, 25, 250, () => 0),
    0,
    'random 0 waits nothing',
  );
  t.ok(Math.abs(fullJitterBackoffMs(1, 25, 250, () => top) - 25) < 0.001, 'retry 1: up to base');
  t.ok(Math.abs(fullJitterBackoffMs(2, 25, 250, () => top) - 50) < 0.001, 'retry 2: twice');
  t.ok(Math.abs(fullJitterBackoffMs(4, 25, 250, () => top) - 200) < 0.001, 'retry 4: 8×');
  t.ok(Math.abs(fullJitterBackoffMs(5, 25, 250, () => top) - 250) < 0.001, 'retry 5: capped');
  t.equal(
    fullJitterBackoffMs(3, 25, 250, () => 0.5),
    50,
    'the middle of [0, 100)',
  );
  t.end();
});

void t.test('pushback: a delay, stop for negative or malformed, none when absent', (t) => {
  t.same(parsePushback(undefined), { kind: 'none' });
  t.same(parsePushback('200'), { kind: 'delay', ms: 200 });
  t.same(parsePushback('0'), { kind: 'delay', ms: 0 });
  for (const bad of ['-1', '', 'soon', '1.5', ' 5', '12345678901']) {
    t.same(parsePushback(bad), { kind: 'stop' }, `"${bad}" stops retries`);
  }
  t.same(parsePushback(['1', '2']), { kind: 'stop' }, 'repeated header');
  t.end();
});

void t.test('a policy retries its statuses and the upstream failures it names', (t) => {
  const policy = new RetryPolicy({ retry_on: ['unavailable', 'reset', 'refused-stream'] });
  t.ok(policy.retriesStatus(GrpcStatus.UNAVAILABLE));
  t.notOk(policy.retriesStatus(GrpcStatus.INTERNAL));
  const error = (code: ConstructorParameters<typeof ProxyError>[0]): ProxyError =>
    new ProxyError(code, 'x');
  t.ok(policy.retriesError(error('upstream_connection_lost')), 'a lost connection (reset)');
  t.ok(policy.retriesError(error('upstream_reset')), 'RST_STREAM (reset)');
  t.ok(policy.retriesError(error('upstream_refused_stream')));
  t.ok(policy.retriesError(error('upstream_connect_failed')), 'connect failure is UNAVAILABLE');
  t.ok(policy.retriesError(error('upstream_timeout')), 'per-try timeouts always retry');
  t.notOk(policy.retriesError(error('cluster_overloaded')), 'limits are never retried');
  t.notOk(policy.retriesError(error('deadline_exceeded')));
  t.notOk(policy.retriesError(error('no_healthy_endpoint')));
  const narrow = new RetryPolicy({ retry_on: ['resource-exhausted'] });
  t.notOk(narrow.retriesError(error('upstream_connection_lost')), 'UNAVAILABLE not listed');
  t.notOk(narrow.retriesError(error('upstream_refused_stream')));
  t.ok(
    narrow.retriesError(error('upstream_overloaded')),
    'ENHANCE_YOUR_CALM is RESOURCE_EXHAUSTED',
  );
  t.end();
});

void t.test('policy defaults', (t) => {
  const policy = new RetryPolicy({});
  t.equal(policy.maxAttempts, 3);
  t.equal(policy.perTryTimeoutMs, undefined);
  t.equal(policy.backoffBaseMs, 25);
  t.equal(policy.backoffMaxMs, 250);
  t.equal(policy.bufferLimit, 64 * 1024);
  t.equal(policy.holdMs, 100);
  t.ok(policy.retriesStatus(GrpcStatus.UNAVAILABLE));
  t.notOk(policy.retriesStatus(GrpcStatus.RESOURCE_EXHAUSTED));
  t.end();
});

function callRetries(
  maxAttempts: number,
  budget = new RetryBudget({ budgetPercent: 100, minConcurrency: 10, maxRetries: undefined }),
  active = 1,
): CallRetries {
  const policy = new RetryPolicy({
    max_attempts: maxAttempts,
    backoff: { base: '100ms', max: '1s' },
  });
  return new CallRetries(policy, { budget, activeCalls: () => active }, () => 0.5);
}

const NONE = { kind: 'none' } as const;

void t.test('a call retries up to max_attempts with growing back-off', (t) => {
  const retries = callRetries(3);
  t.ok(retries.possible(0, undefined));
  t.equal(retries.next(NONE, 0, undefined), 50, 'retry 1: half of 100ms');
  t.ok(retries.possible(0, undefined));
  t.equal(retries.next(NONE, 0, undefined), 100, 'retry 2: half of 200ms');
  t.notOk(retries.possible(0, undefined), 'no attempt left: nothing is held');
  t.equal(retries.next(NONE, 0, undefined), 'max_attempts');
  t.equal(retries.retries, 2);
  t.end();
});

void t.test('pushback replaces the back-off, or stops the retries', (t) => {
  const retries = callRetries(5);
  t.equal(retries.next({ kind: 'delay', ms: 200 }, 0, undefined), 200);
  t.equal(retries.next({ kind: 'stop' }, 0, undefined), 'pushback');
  t.equal(retries.retries, 1);
  t.end();
});

void t.test('never a retry whose back-off ends at or past the deadline', (t) => {
  const retries = callRetries(5);
  t.equal(retries.next({ kind: 'delay', ms: 100 }, 1000, 1100), 'deadline', 'ends at it');
  t.equal(retries.next({ kind: 'delay', ms: 99 }, 1000, 1100), 99, 'ends before it');
  t.notOk(retries.possible(1100, 1100), 'nothing held once the deadline passed');
  t.ok(retries.possible(1099, 1100));
  t.end();
});

void t.test('a call holds one budget slot at most and gives it back', (t) => {
  const budget = new RetryBudget({ budgetPercent: 0, minConcurrency: 1, maxRetries: undefined });
  const a = callRetries(5, budget);
  const b = callRetries(5, budget);
  t.equal(typeof a.next(NONE, 0, undefined), 'number', 'a takes the only slot');
  t.equal(typeof a.next(NONE, 0, undefined), 'number', 'and keeps it for its next retry');
  t.equal(budget.inFlight, 1);
  t.notOk(b.possible(0, undefined), 'b would be refused: b holds nothing back');
  t.equal(b.next(NONE, 0, undefined), 'retry_budget');
  a.release();
  t.equal(budget.inFlight, 0);
  a.release();
  t.equal(budget.inFlight, 0, 'release is idempotent');
  t.equal(typeof b.next(NONE, 0, undefined), 'number', 'b gets the freed slot');
  t.end();
});
