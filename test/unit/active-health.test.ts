// The active health check's threshold state machine (injected clock), the
// scheduler's first round and flag handling (a checker the test answers by
// hand), and the hand-written grpc.health.v1 codec.
import t from 'tap';
import { ActiveHealth } from '../../src/health/active-health.js';
import {
  HEALTHY,
  unhealthy,
  type CheckResult,
  type HealthChecker,
} from '../../src/health/checker.js';
import { decodeServingStatus, encodeHealthCheckRequest } from '../../src/health/grpc-checker.js';
import { HealthFlags } from '../../src/health/health-flags.js';
import { HealthCheckScheduler } from '../../src/health/health-check-scheduler.js';
import { silentLogger } from '../../src/log/logger.js';

const FAIL = unhealthy('boom');

function machine(
  unhealthyThreshold = 3,
  healthyThreshold = 2,
): {
  state: ActiveHealth;
  advance: (ms: number) => void;
} {
  let now = Date.UTC(2026, 0, 1);
  const state = new ActiveHealth({ unhealthyThreshold, healthyThreshold }, () => now);
  return {
    state,
    advance: (ms) => {
      now += ms;
    },
  };
}

void t.test('starts unhealthy; the very first pass alone makes it healthy', (t) => {
  const { state } = machine(3, 5);
  t.equal(state.healthy, false);
  t.same(state.view(), {
    last_result: null,
    last_checked_at: null,
    consecutive_failures: 0,
    consecutive_successes: 0,
  });
  t.equal(state.record(HEALTHY), 'healthy');
  t.equal(state.healthy, true);
  t.end();
});

void t.test('after a failed first check, healthy_threshold passes are needed', (t) => {
  const { state } = machine(3, 2);
  t.equal(state.record(FAIL), undefined);
  t.equal(state.healthy, false);
  t.equal(state.record(HEALTHY), undefined, 'one pass is not enough any more');
  t.equal(state.record(FAIL), undefined);
  t.equal(state.record(HEALTHY), undefined, 'a failure restarted the count');
  t.equal(state.record(HEALTHY), 'healthy');
  t.end();
});

void t.test('unhealthy_threshold consecutive failures take a healthy endpoint out', (t) => {
  const { state } = machine(3, 2);
  state.record(HEALTHY);
  t.equal(state.record(FAIL), undefined);
  t.equal(state.record(FAIL), undefined);
  t.equal(state.record(HEALTHY), undefined, 'a pass resets the failures');
  t.equal(state.record(FAIL), undefined);
  t.equal(state.record(FAIL), undefined);
  t.equal(state.healthy, true);
  t.equal(state.record(FAIL), 'unhealthy');
  t.equal(state.healthy, false);
  t.equal(state.record(FAIL), undefined, 'no second transition');
  t.equal(state.record(HEALTHY), undefined);
  t.equal(state.record(HEALTHY), 'healthy');
  t.end();
});

void t.test('the view counts and stamps results with the injected clock', (t) => {
  const { state, advance } = machine(1, 1);
  state.record(HEALTHY);
  advance(1_500);
  state.record(unhealthy('HTTP status 503'));
  t.same(state.view(), {
    last_result: 'unhealthy: HTTP status 503',
    last_checked_at: '2026-01-01T00:00:01.500Z',
    consecutive_failures: 1,
    consecutive_successes: 0,
  });
  t.equal(state.healthy, false, 'threshold 1 flips at once');
  advance(500);
  state.record(HEALTHY);
  t.match(state.view(), {
    last_result: 'healthy',
    last_checked_at: '2026-01-01T00:00:02.000Z',
    consecutive_successes: 1,
  });
  t.end();
});

/** A checker whose probes the test answers one by one. */
class HandChecker implements HealthChecker {
  readonly pending = new Map<string, (result: CheckResult) => void>();
  forgotten: string[] = [];
  closed = false;
  check(endpoint: { address: string }): Promise<CheckResult> {
    return new Promise((resolve) => {
      this.pending.set(endpoint.address, resolve);
    });
  }
  answer(address: string, result: CheckResult): void {
    const resolve = this.pending.get(address);
    if (resolve === undefined) throw new Error(`no check pending for ${address}`);
    this.pending.delete(address);
    resolve(result);
  }
  forget(endpoint: { address: string }): void {
    this.forgotten.push(endpoint.address);
  }
  close(): Promise<void> {
    this.closed = true;
    return Promise.resolve();
  }
}

function scheduler(checker: HealthChecker): HealthCheckScheduler {
  return new HealthCheckScheduler({
    checker,
    // Far beyond the test: only first checks run.
    intervalMs: 3_600_000,
    timeoutMs: 3_600_000,
    unhealthyThreshold: 3,
    healthyThreshold: 2,
    logger: silentLogger(),
  });
}

void t.test(
  'scheduler: held until the first check passes; first round waits for every endpoint',
  async (t) => {
    const checker = new HandChecker();
    const checks = scheduler(checker);
    const a = { address: 'a:1', health: new HealthFlags() };
    const b = { address: 'b:1', health: new HealthFlags() };
    checks.hold(a);
    checks.hold(b);
    t.same(a.health.sources(), ['active_check'], 'held from creation');
    b.health.set('outlier');
    t.equal(checks.firstRoundDone, false, 'not started');
    checks.start([a, b]);
    t.same([...checker.pending.keys()], ['a:1', 'b:1'], 'first round runs at once');
    let roundDone = false;
    void checks.firstRound.then(() => {
      roundDone = true;
    });
    checker.answer('a:1', HEALTHY);
    await new Promise(setImmediate);
    t.equal(a.health.available, true);
    t.equal(checks.firstRoundDone, false);
    t.equal(roundDone, false);
    checker.answer('b:1', HEALTHY);
    await checks.firstRound;
    t.equal(checks.firstRoundDone, true);
    t.same(b.health.sources(), ['outlier'], 'only active_check cleared');
    t.match(checks.view(a), { last_result: 'healthy', consecutive_successes: 1 });

    const late = { address: 'c:1', health: new HealthFlags() };
    checks.hold(late);
    checks.add(late);
    t.equal(late.health.available, false, 'a joining endpoint waits for its first check');
    checker.answer('c:1', FAIL);
    await new Promise(setImmediate);
    t.equal(late.health.available, false, 'a failed first check keeps it out');
    t.match(checks.view(late), { last_result: 'unhealthy: boom', consecutive_failures: 1 });

    checks.remove(late);
    t.same(checker.forgotten, ['c:1']);
    t.equal(checks.view(late), null);
    await checks.stop();
    t.equal(checker.closed, true);
  },
);

void t.test('scheduler: a failed or removed first check still ends the first round', async (t) => {
  const checker = new HandChecker();
  const checks = scheduler(checker);
  const a = { address: 'a:1', health: new HealthFlags() };
  const b = { address: 'b:1', health: new HealthFlags() };
  checks.start([a, b]);
  checker.answer('a:1', FAIL);
  checks.remove(b);
  await checks.firstRound;
  t.equal(a.health.has('active_check'), true);
  await checks.stop();
});

void t.test('scheduler: the timeout aborts a check and counts as a failure', async (t) => {
  let seen: AbortSignal | undefined;
  const checker: HealthChecker = {
    check: (_endpoint, signal) =>
      new Promise((resolve) => {
        seen = signal;
        signal.addEventListener('abort', () => {
          resolve(unhealthy('aborted'));
        });
      }),
    forget: () => undefined,
    close: () => Promise.resolve(),
  };
  const checks = new HealthCheckScheduler({
    checker,
    intervalMs: 3_600_000,
    timeoutMs: 5,
    unhealthyThreshold: 1,
    healthyThreshold: 1,
    logger: silentLogger(),
  });
  // The scheduler's timers are unref'd and this checker holds no socket: keep the process up.
  const alive = setInterval(() => undefined, 60_000);
  t.teardown(() => {
    clearInterval(alive);
  });
  const a = { address: 'a:1', health: new HealthFlags() };
  checks.start([a]);
  await checks.firstRound;
  t.equal(seen?.aborted, true);
  t.match(String(seen?.reason), /timed out after 5ms/);
  t.equal(a.health.has('active_check'), true);
  await checks.stop();
});

void t.test('grpc.health.v1 codec', (t) => {
  t.same(encodeHealthCheckRequest(''), Buffer.alloc(0), 'empty service is the empty message');
  t.same(encodeHealthCheckRequest('a.B'), Buffer.from([0x0a, 3, 0x61, 0x2e, 0x42]));
  const long = 'x'.repeat(200);
  t.same(encodeHealthCheckRequest(long).subarray(0, 3), Buffer.from([0x0a, 0xc8, 0x01]));
  t.equal(decodeServingStatus(Buffer.from([0x08, 0x01])), 1, 'SERVING');
  t.equal(decodeServingStatus(Buffer.from([0x08, 0x02])), 2, 'NOT_SERVING');
  t.equal(decodeServingStatus(Buffer.alloc(0)), 0, 'absent: UNKNOWN');
  t.equal(
    decodeServingStatus(Buffer.from([0x12, 0x01, 0x00, 0x08, 0x01])),
    1,
    'unknown field skipped',
  );
  t.equal(decodeServingStatus(Buffer.from([0x08])), undefined, 'truncated');
  t.equal(decodeServingStatus(Buffer.from([0x12, 0x05, 0x00])), undefined, 'overlong field');
  t.end();
});
