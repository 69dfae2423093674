// Panic threshold around every policy, and the registry's options.
import t from 'tap';
import { LB_POLICY_NAMES } from '../../src/lb/load-balancer.js';
import { inPanic } from '../../src/lb/panic.js';
import { createLoadBalancer } from '../../src/lb/registry.js';
import { countPicks, fakeCluster, mulberry32, type FakeCluster } from '../helpers/lb-fakes.js';

const REQUEST = { headers: {} };

function cluster5(up: number): FakeCluster {
  const cluster = fakeCluster({ a: 1, b: 1, c: 1, d: 1, e: 1 });
  [...cluster.byName.values()].forEach((e, i) => {
    e.available = i < up;
  });
  return cluster;
}

void t.test('inPanic: fewer than threshold percent available', (t) => {
  const cases: { up: number; threshold: number; panic: boolean }[] = [
    { up: 5, threshold: 50, panic: false },
    { up: 3, threshold: 50, panic: false },
    { up: 2, threshold: 50, panic: true }, // 40% < 50%
    { up: 0, threshold: 50, panic: true },
    { up: 4, threshold: 100, panic: true },
    { up: 5, threshold: 100, panic: false },
    { up: 1, threshold: 20, panic: false }, // exactly 20% is not below it
    { up: 0, threshold: 0, panic: false }, // 0 turns it off
  ];
  for (const c of cases) {
    t.equal(
      inPanic(cluster5(c.up).members, c.threshold),
      c.panic,
      `${c.up}/5 up, threshold ${c.threshold}`,
    );
  }
  t.equal(inPanic([], 50), false, 'no members: no panic');
  t.end();
});

void t.test('in panic every policy uses all endpoints but draining ones', (t) => {
  for (const policy of LB_POLICY_NAMES) {
    const cluster = cluster5(1); // 20% available < 50%
    cluster.get('e').draining = true;
    const lb = createLoadBalancer(policy, cluster.members, {
      random: mulberry32(17),
      hashHeader: 'x-user-id',
    });
    const picked = countPicks(() => lb.pick(REQUEST), 400);
    t.notOk('e' in picked, `${policy}: draining e never picked`);
    t.notOk('(none)' in picked, `${policy}: always some endpoint`);
    if (policy === 'pick_first') {
      t.same(picked, { a: 400 }, 'pick_first: a is first in list order either way');
      cluster.get('a').draining = true;
      t.same(
        countPicks(() => lb.pick(REQUEST), 10),
        { b: 10 },
        'pick_first: b (down) in panic',
      );
    } else {
      t.same(Object.keys(picked).sort(), ['a', 'b', 'c', 'd'], `${policy}: spread over a-d`);
    }
  }
  t.end();
});

void t.test('above the threshold only available endpoints are used', (t) => {
  for (const policy of LB_POLICY_NAMES) {
    const cluster = cluster5(3); // 60% available
    const lb = createLoadBalancer(policy, cluster.members, {
      random: mulberry32(5),
      hashHeader: 'x-user-id',
    });
    const picked = countPicks(() => lb.pick(REQUEST), 300);
    const expected = policy === 'pick_first' ? ['a'] : ['a', 'b', 'c'];
    t.same(Object.keys(picked).sort(), expected, `${policy}: only available ones`);
  }
  t.end();
});

void t.test('threshold 0: no panic; none available fails the pick', (t) => {
  for (const policy of LB_POLICY_NAMES) {
    const cluster = cluster5(1);
    const options = { random: mulberry32(5), hashHeader: 'x-user-id', panicThreshold: 0 };
    const lb = createLoadBalancer(policy, cluster.members, options);
    t.same(
      countPicks(() => lb.pick(REQUEST), 50),
      { a: 50 },
      `${policy}: only a`,
    );
    cluster.get('a').available = false;
    t.same(
      countPicks(() => lb.pick(REQUEST), 3),
      { '(none)': 3 },
      `${policy}: undefined`,
    );
  }
  t.end();
});

void t.test('default threshold 50: all down → all non-draining; all draining → none', (t) => {
  const cluster = cluster5(0);
  const lb = createLoadBalancer('round_robin', cluster.members);
  t.same(
    Array.from({ length: 5 }, () => lb.pick(REQUEST)?.name),
    ['a', 'b', 'c', 'd', 'e'],
    'panic round robin cycles through all five',
  );
  for (const e of cluster.byName.values()) e.draining = true;
  t.equal(lb.pick(REQUEST), undefined);
  t.end();
});

void t.test('panic ends as soon as enough endpoints are back', (t) => {
  const cluster = cluster5(2);
  const lb = createLoadBalancer('round_robin', cluster.members);
  t.same(Object.keys(countPicks(() => lb.pick(REQUEST), 10)).sort(), ['a', 'b', 'c', 'd', 'e']);
  cluster.get('c').available = true; // 60%
  t.same(Object.keys(countPicks(() => lb.pick(REQUEST), 9)).sort(), ['a', 'b', 'c']);
  t.end();
});

void t.test('the balancer returns the endpoint objects, not views', (t) => {
  const cluster = fakeCluster({ a: 1 });
  for (const policy of LB_POLICY_NAMES) {
    const lb = createLoadBalancer(policy, cluster.members, { hashHeader: 'h' });
    t.equal(lb.pick(REQUEST), cluster.get('a'), policy);
  }
  t.end();
});

void t.test('ring_hash without a header to hash on is a programming error', (t) => {
  t.throws(() => createLoadBalancer('ring_hash', fakeCluster({ a: 1 }).members), /hash_on/);
  t.end();
});
