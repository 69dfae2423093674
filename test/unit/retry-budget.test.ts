// The retry budget's invariant: at every admission, retries in flight stay
// within max(min_retry_concurrency, budget_percent × active calls), capped
// by max_retries. Checked over a simulated outage on an injected clock.
import t from 'tap';
import { RetryBudget } from '../../src/breaker/retry-budget.js';
import { ManualClock } from '../helpers/manual-clock.js';

/** A seeded linear congruential generator: the same run every time. */
function seededRandom(seed: number): () => number {
  let state = seed;
  return () => {
    state = (state * 1_103_515_245 + 12_345) % 2 ** 31;
    return state / 2 ** 31;
  };
}

void t.test('allowed: the percentage of active calls, a floor, and max_retries', (t) => {
  const budget = new RetryBudget({ budgetPercent: 20, minConcurrency: 3, maxRetries: undefined });
  t.equal(budget.allowed(0), 3, 'the floor');
  t.equal(budget.allowed(10), 3);
  t.equal(budget.allowed(100), 20);
  t.equal(budget.allowed(104), 20, 'rounded down');
  const capped = new RetryBudget({ budgetPercent: 20, minConcurrency: 3, maxRetries: 5 });
  t.equal(capped.allowed(100), 5, 'the stricter of budget and max_retries');
  t.equal(capped.allowed(0), 3);
  t.end();
});

void t.test('refusals are counted by the limit that refused', (t) => {
  const capped = new RetryBudget({ budgetPercent: 50, minConcurrency: 0, maxRetries: 1 });
  t.equal(capped.tryAcquire(10), undefined);
  t.equal(capped.tryAcquire(10), 'max_retries', 'budget 5, max_retries 1');
  t.equal(capped.tryAcquire(0), 'retry_budget', 'budget 0 is stricter');
  t.same(capped.refused, { retry_budget: 1, max_retries: 1 });
  t.end();
});

void t.test('in-flight invariant over a simulated outage', (t) => {
  const settings = { budgetPercent: 20, minConcurrency: 3, maxRetries: undefined };
  const budget = new RetryBudget(settings);
  const clock = new ManualClock();
  const random = seededRandom(42);
  let active = 0;
  let violations = 0;
  let admitted = 0;
  let refused = 0;
  // Calls arrive every ms for 2 s; each fails after 1-20 ms and asks for a
  // retry, which (if admitted) runs 1-50 ms and fails again, up to 2 retries.
  const attempt = (retriesLeft: number, holdsSlot: boolean): void => {
    clock.setTimeout(
      () => {
        if (retriesLeft === 0) {
          active--;
          if (holdsSlot) budget.release();
          return;
        }
        if (holdsSlot) budget.release();
        const refusal = budget.tryAcquire(active);
        if (refusal !== undefined) {
          refused++;
          active--;
          return;
        }
        admitted++;
        if (budget.inFlight > budget.allowed(active)) violations++;
        attempt(retriesLeft - 1, true);
      },
      1 + Math.floor(random() * (holdsSlot ? 50 : 20)),
    );
  };
  for (let ms = 0; ms < 2000; ms++) {
    clock.setTimeout(() => {
      active++;
      attempt(2, false);
    }, ms);
  }
  clock.advance(3000);
  t.equal(violations, 0, 'never more retries in flight than allowed at admission');
  t.equal(active, 0, 'every call ended');
  t.equal(budget.inFlight, 0, 'every slot was given back');
  t.ok(admitted > 0 && refused > 0, `the budget admitted ${admitted} and refused ${refused}`);
  t.ok(admitted <= 0.5 * 2000, 'retries stay a fraction of calls');
  t.end();
});
