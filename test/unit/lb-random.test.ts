// Weighted random over plain endpoints with a seeded random source.
import t from 'tap';
import { RandomPick, weightedRandom } from '../../src/lb/random.js';
import { countPicks, fakeCluster, mulberry32, scripted } from '../helpers/lb-fakes.js';

void t.test('shares follow the weights of the available endpoints', (t) => {
  const cases: {
    weights: Record<string, number>;
    down: string[];
    expected: Record<string, number>;
  }[] = [
    { weights: { a: 1, b: 1, c: 1 }, down: [], expected: { a: 1 / 3, b: 1 / 3, c: 1 / 3 } },
    { weights: { a: 1, b: 2, c: 3 }, down: [], expected: { a: 1 / 6, b: 2 / 6, c: 3 / 6 } },
    { weights: { a: 1, b: 2, c: 3 }, down: ['c'], expected: { a: 1 / 3, b: 2 / 3 } },
    { weights: { a: 9, b: 1 }, down: [], expected: { a: 0.9, b: 0.1 } },
  ];
  for (const c of cases) {
    const cluster = fakeCluster(c.weights);
    for (const name of c.down) cluster.get(name).available = false;
    const lb = new RandomPick(cluster.members, mulberry32(7));
    const n = 30_000;
    const got = countPicks(() => lb.pick(), n);
    const label = `${JSON.stringify(c.weights)} without [${c.down.join(',')}]`;
    t.same(Object.keys(got).sort(), Object.keys(c.expected).sort(), `${label}: who is picked`);
    for (const [name, share] of Object.entries(c.expected)) {
      const actual = (got[name] ?? 0) / n;
      t.ok(Math.abs(actual - share) < 0.015, `${label}: ${name} ${actual.toFixed(3)} ≈ ${share}`);
    }
  }
  t.end();
});

void t.test('the random value maps onto cumulative weights', (t) => {
  // a:1 b:2 c:3 → [0,1) a, [1,3) b, [3,6) c of total 6.
  const cluster = fakeCluster({ a: 1, b: 2, c: 3 });
  const cases: [number, string][] = [
    [0, 'a'],
    [0.16, 'a'],
    [0.17, 'b'],
    [0.49, 'b'],
    [0.5, 'c'],
    [0.999999, 'c'],
  ];
  for (const [value, expected] of cases) {
    t.equal(weightedRandom(cluster.members, () => value)?.name, expected, `${value} → ${expected}`);
  }
  cluster.get('a').available = false;
  // Without a the ranges are b [0,2), c [2,5).
  t.equal(weightedRandom(cluster.members, () => 0)?.name, 'b', 'ranges shift past a');
  t.equal(weightedRandom(cluster.members, () => 0.39)?.name, 'b');
  t.equal(weightedRandom(cluster.members, () => 0.41)?.name, 'c');
  t.end();
});

void t.test('nothing available gives undefined without asking for randomness', (t) => {
  const cluster = fakeCluster({ a: 1, b: 1 });
  for (const e of cluster.byName.values()) e.available = false;
  const lb = new RandomPick(cluster.members, scripted([]));
  t.equal(lb.pick(), undefined);
  t.equal(new RandomPick(fakeCluster({}).members, scripted([])).pick(), undefined, 'no members');
  t.end();
});

void t.test('the same seed gives the same sequence', (t) => {
  const one = fakeCluster({ a: 1, b: 1, c: 1 });
  const first = new RandomPick(one.members, mulberry32(42));
  const second = new RandomPick(one.members, mulberry32(42));
  const a = Array.from({ length: 50 }, () => first.pick()?.name);
  const b = Array.from({ length: 50 }, () => second.pick()?.name);
  t.same(a, b);
  t.equal(new Set(a).size, 3, 'all three appear');
  t.equal(new RandomPick(one.members, () => 0).pick(), one.get('a'), 'the endpoint object itself');
  t.end();
});
