// HealthFlags (one independent flag per source) and ConcurrencyLimit (in-flight cap).
import t from 'tap';
import { ConcurrencyLimit } from '../../src/breaker/concurrency-limit.js';
import { HealthFlags, type HealthSource } from '../../src/health/health-flags.js';

const SOURCES: readonly HealthSource[] = ['active_check', 'outlier', 'breaker', 'draining'];

void t.test('a fresh endpoint is available with no sources', (t) => {
  const flags = new HealthFlags();
  t.equal(flags.available, true);
  t.same(flags.sources(), []);
  for (const source of SOURCES) t.equal(flags.has(source), false, source);
  t.end();
});

void t.test('each source alone holds the endpoint out and only its own flag', (t) => {
  for (const source of SOURCES) {
    const flags = new HealthFlags();
    flags.set(source);
    t.equal(flags.available, false, `${source} set: unavailable`);
    t.same(flags.sources(), [source], `${source} set: sources`);
    for (const other of SOURCES) {
      t.equal(flags.has(other), other === source, `${source} set: has(${other})`);
    }
    for (const other of SOURCES) {
      if (other === source) continue;
      flags.clear(other);
      t.equal(flags.has(source), true, `clearing ${other} leaves ${source}`);
      t.equal(flags.available, false, `clearing ${other} leaves it unavailable`);
    }
    flags.clear(source);
    t.equal(flags.available, true, `${source} cleared: available again`);
    t.same(flags.sources(), []);
  }
  t.end();
});

void t.test('every pair of sources: clearing one leaves the other', (t) => {
  for (const first of SOURCES) {
    for (const second of SOURCES) {
      if (first === second) continue;
      const flags = new HealthFlags();
      flags.set(first);
      flags.set(second);
      flags.clear(first);
      t.equal(flags.available, false, `${first}+${second}, clear ${first}`);
      t.same(flags.sources(), [second]);
      flags.clear(second);
      t.equal(flags.available, true);
    }
  }
  t.end();
});

void t.test('all sources set, cleared one by one', (t) => {
  const flags = new HealthFlags();
  for (const source of SOURCES) flags.set(source);
  t.same(flags.sources(), SOURCES, 'all listed in a fixed order');
  const remaining = [...SOURCES];
  for (const source of [...SOURCES].reverse()) {
    t.equal(flags.available, false, `still held by ${remaining.join(',')}`);
    flags.clear(source);
    remaining.splice(remaining.indexOf(source), 1);
    t.same(flags.sources(), remaining);
  }
  t.equal(flags.available, true);
  t.end();
});

void t.test('set and clear are idempotent flags, not counters', (t) => {
  const flags = new HealthFlags();
  flags.set('outlier');
  flags.set('outlier');
  t.same(flags.sources(), ['outlier']);
  flags.clear('outlier');
  t.equal(flags.available, true, 'one clear lifts a flag set twice');
  flags.clear('outlier');
  flags.clear('draining');
  t.equal(flags.available, true, 'clearing an unset flag changes nothing');
  t.same(flags.sources(), []);
  flags.set('draining');
  t.equal(flags.available, false, 'extra clears do not pre-lift a later set');
  t.end();
});

void t.test('ConcurrencyLimit admits up to max calls in flight', (t) => {
  for (const max of [1, 2, 5]) {
    const limit = new ConcurrencyLimit(max);
    t.equal(limit.max, max);
    t.equal(limit.inFlight, 0);
    for (let i = 1; i <= max; i++) {
      t.equal(limit.tryAcquire(), true, `max ${max}: call ${i} admitted`);
      t.equal(limit.inFlight, i);
    }
    t.equal(limit.tryAcquire(), false, `max ${max}: call ${max + 1} refused`);
    t.equal(limit.tryAcquire(), false, `max ${max}: still refused`);
    t.equal(limit.inFlight, max, 'refusals take no slot');
    t.equal(limit.overflows, 2, 'each refusal is counted as an overflow');
    limit.release();
    t.equal(limit.inFlight, max - 1);
    t.equal(limit.tryAcquire(), true, `max ${max}: a released slot is reusable`);
    t.equal(limit.tryAcquire(), false);
  }
  t.end();
});

void t.test('ConcurrencyLimit: extra releases do not create capacity', (t) => {
  const limit = new ConcurrencyLimit(2);
  limit.release();
  limit.release();
  t.equal(limit.inFlight, 0, 'never negative');
  t.equal(limit.tryAcquire(), true);
  t.equal(limit.tryAcquire(), true);
  t.equal(limit.tryAcquire(), false, 'still only max slots');
  limit.release();
  limit.release();
  limit.release();
  t.equal(limit.inFlight, 0);
  t.end();
});
