// The reconnect back-off calculator (gRPC connection-backoff.md) with an
// injected clock and random source.
import t from 'tap';
import { ConnectionBackoff, GRPC_BACKOFF, type BackoffPolicy } from '../../src/upstream/backoff.js';

const POLICY: BackoffPolicy = { ...GRPC_BACKOFF, minConnectTimeoutMs: 5_000 };

class FakeClock {
  ms = 0;
  now(): number {
    return this.ms;
  }
}

/** 1 s, ×1.6 each step, capped at 120 s. */
const UNJITTERED = [
  1000, 1600, 2560, 4096, 6553.6, 10485.76, 16777.216, 26843.5456, 42949.67296, 68719.476736,
  109951.1627776, 120000, 120000, 120000,
];

void t.test('the constants are connection-backoff.md’s', (t) => {
  t.same(GRPC_BACKOFF, { initialMs: 1000, multiplier: 1.6, maxMs: 120_000, jitter: 0.2 });
  t.end();
});

void t.test('with no jitter (random 0.5) the steps are 1 s ×1.6 up to 120 s', (t) => {
  const clock = new FakeClock();
  const backoff = new ConnectionBackoff(POLICY, { clock, random: () => 0.5 });
  const steps: number[] = [];
  for (let i = 0; i < UNJITTERED.length; i++) {
    const attempt = backoff.beginAttempt();
    steps.push(attempt.stepMs);
    t.equal(attempt.startedAt, clock.ms, `attempt ${i + 1} starts now`);
    t.equal(attempt.retryAt, clock.ms + attempt.stepMs, `attempt ${i + 1}: next due a step later`);
    // The next attempt starts when this one's deadline passes.
    clock.ms = attempt.retryAt;
  }
  steps.forEach((step, i) =>
    t.ok(Math.abs(step - (UNJITTERED[i] ?? NaN)) < 1e-6, `step ${i + 1}: ${step}`),
  );
  t.equal(backoff.attempts, UNJITTERED.length);
  t.end();
});

// Jitter applies after the cap, as in the spec's pseudo-code: 120 s ± 24 s.
void t.test('jitter spreads every step, the first included, by ±20%', (t) => {
  for (const [random, factor] of [
    [0, 0.8],
    [0.25, 0.9],
    [0.75, 1.1],
    [0.999_999, 1.2],
  ] as const) {
    const backoff = new ConnectionBackoff(POLICY, { clock: new FakeClock(), random: () => random });
    UNJITTERED.forEach((expected, i) => {
      const { stepMs } = backoff.beginAttempt();
      t.ok(
        Math.abs(stepMs / (expected * factor) - 1) < 1e-5,
        `random ${random}, step ${i + 1}: ${stepMs} ≈ ${expected} × ${factor}`,
      );
    });
  }
  t.end();
});

void t.test('a varying random source keeps each step within ±20% of the sequence', (t) => {
  let seed = 7;
  const random = (): number => {
    seed = (seed * 16807) % 2147483647;
    return seed / 2147483647;
  };
  const backoff = new ConnectionBackoff(POLICY, { clock: new FakeClock(), random });
  const seen = new Set<number>();
  for (const expected of UNJITTERED) {
    const { stepMs } = backoff.beginAttempt();
    seen.add(stepMs / expected);
    t.ok(
      stepMs >= expected * 0.8 && stepMs <= expected * 1.2,
      `${stepMs} within ±20% of ${expected}`,
    );
  }
  t.ok(seen.size > 1, 'not the same factor every time');
  t.end();
});

void t.test('connect timeout: max(step, MIN_CONNECT_TIMEOUT)', (t) => {
  const backoff = new ConnectionBackoff(POLICY, { clock: new FakeClock(), random: () => 0.5 });
  const timeouts = UNJITTERED.map(() => backoff.beginAttempt().connectTimeoutMs);
  t.same(timeouts.slice(0, 4), [5000, 5000, 5000, 5000], 'short steps get the minimum');
  t.ok(
    Math.abs((timeouts[4] ?? 0) - 6553.6) < 1e-6,
    'a step longer than the minimum is the timeout',
  );
  t.equal(timeouts.at(-1), 120_000);
  t.equal(backoff.firstConnectTimeoutMs, 5000, 'outside a sequence: the minimum');
  const short = new ConnectionBackoff({ ...POLICY, minConnectTimeoutMs: 250 });
  t.equal(
    short.firstConnectTimeoutMs,
    1000,
    'never below INITIAL_BACKOFF (spec: max(deadline, MIN))',
  );
  t.end();
});

void t.test(
  'the next attempt is due a step after the last one started, not after it failed',
  (t) => {
    const clock = new FakeClock();
    const backoff = new ConnectionBackoff(POLICY, { clock, random: () => 0.5 });
    clock.ms = 10_000;
    const first = backoff.beginAttempt();
    clock.ms = 10_300; // refused after 300 ms
    t.equal(backoff.delayUntilRetry(first), 700);
    clock.ms = 16_000; // timed out long after the step
    t.equal(backoff.delayUntilRetry(first), 0, 'overdue: at once');
    const second = backoff.beginAttempt(12_000);
    t.equal(second.startedAt, 12_000, 'an explicit start time is honoured');
    t.equal(second.retryAt, 13_600);
    t.end();
  },
);

void t.test('reset starts the sequence over at 1 s', (t) => {
  const backoff = new ConnectionBackoff(POLICY, { clock: new FakeClock(), random: () => 0.5 });
  for (let i = 0; i < 5; i++) backoff.beginAttempt();
  t.equal(backoff.attempts, 5);
  backoff.reset();
  t.equal(backoff.attempts, 0);
  t.equal(backoff.beginAttempt().stepMs, 1000);
  t.equal(backoff.beginAttempt().stepMs, 1600);
  t.end();
});
