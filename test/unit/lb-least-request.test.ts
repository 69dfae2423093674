// Least request (power of d distinct choices) over plain endpoints.
import t from 'tap';
import { LeastRequest } from '../../src/lb/least-request.js';
import { countPicks, fakeCluster, mulberry32, scripted } from '../helpers/lb-fakes.js';

void t.test('two endpoints: both are always compared (choices are distinct)', (t) => {
  // Sampling with replacement would draw the busy one twice in about a quarter of picks.
  const cluster = fakeCluster({ busy: 1, idle: 1 });
  cluster.get('busy').inFlight = 5;
  const lb = new LeastRequest(cluster.members, mulberry32(1), 2);
  t.same(
    countPicks(() => lb.pick(), 1000),
    { idle: 1000 },
  );
  t.end();
});

void t.test('each pick samples choice_count distinct endpoints', (t) => {
  for (const choiceCount of [2, 3, 4]) {
    const cluster = fakeCluster({ a: 1, b: 1, c: 1, d: 1, e: 1 });
    const random = mulberry32(choiceCount);
    let calls = 0;
    const counted = (): number => {
      calls++;
      return random();
    };
    const lb = new LeastRequest(cluster.members, counted, choiceCount);
    for (let i = 0; i < 100; i++) lb.pick();
    t.equal(calls, 100 * choiceCount, `choice_count ${choiceCount}: ${choiceCount} draws per pick`);
  }
  t.end();
});

void t.test('with load a,b,c = 0,1,2 and P2C, the busiest never wins', (t) => {
  const cluster = fakeCluster({ a: 1, b: 1, c: 1 });
  cluster.get('b').inFlight = 1;
  cluster.get('c').inFlight = 2;
  const n = 30_000;
  const lb = new LeastRequest(cluster.members, mulberry32(9), 2);
  const shares = countPicks(() => lb.pick(), n);
  t.equal(shares['c'], undefined, 'c is never picked');
  // a wins every pair it is in (2 of 3 pairs), b only the pair {b, c}.
  t.ok(Math.abs((shares['a'] ?? 0) / n - 2 / 3) < 0.015, `a ≈ 2/3: ${shares['a'] ?? 0}`);
  t.ok(Math.abs((shares['b'] ?? 0) / n - 1 / 3) < 0.015, `b ≈ 1/3: ${shares['b'] ?? 0}`);
  t.end();
});

void t.test('choice_count covering every endpoint always takes the global best', (t) => {
  const cluster = fakeCluster({ a: 1, b: 1, c: 1, d: 1 });
  cluster.get('a').inFlight = 3;
  cluster.get('b').inFlight = 1;
  cluster.get('c').inFlight = 0;
  cluster.get('d').inFlight = 2;
  const lb = new LeastRequest(cluster.members, mulberry32(5), 4);
  t.same(
    countPicks(() => lb.pick(), 500),
    { c: 500 },
  );
  const more = new LeastRequest(cluster.members, mulberry32(5), 10);
  t.same(
    countPicks(() => more.pick(), 100),
    { c: 100 },
    'more choices than endpoints',
  );
  t.end();
});

void t.test('unequal weights: highest weight / (inFlight + 1) wins', (t) => {
  const cases: {
    name: string;
    a: [weight: number, inFlight: number];
    b: [weight: number, inFlight: number];
    winner: string;
  }[] = [
    { name: 'heavier with some load beats idle light', a: [4, 2], b: [1, 0], winner: 'a' },
    { name: 'heavier but overloaded loses', a: [4, 5], b: [1, 0], winner: 'b' },
    { name: 'equal weights: fewer in flight', a: [2, 1], b: [2, 0], winner: 'b' },
    { name: '3/(2+1) = 1/(0+1): tie, first sampled (a)', a: [3, 2], b: [1, 0], winner: 'a' },
  ];
  for (const c of cases) {
    const cluster = fakeCluster({ a: c.a[0], b: c.b[0] });
    cluster.get('a').inFlight = c.a[1];
    cluster.get('b').inFlight = c.b[1];
    // random 0 then 0: sample a first, then b.
    const lb = new LeastRequest(cluster.members, scripted([0, 0]), 2);
    t.equal(lb.pick()?.name, c.winner, c.name);
  }
  t.end();
});

void t.test('ties go to the first sampled endpoint', (t) => {
  const cluster = fakeCluster({ a: 1, b: 1, c: 1 });
  // Candidates [a, b, c]: 0.99 draws c first (swapped to slot 0), then 0 draws b.
  t.equal(new LeastRequest(cluster.members, scripted([0.99, 0]), 2).pick()?.name, 'c');
  // 0 draws a first, then 0.99 draws c from [b, c].
  t.equal(new LeastRequest(cluster.members, scripted([0, 0.99]), 2).pick()?.name, 'a');
  // 0.5 draws b first, then 0 draws a (the slot b vacated).
  t.equal(new LeastRequest(cluster.members, scripted([0.5, 0]), 2).pick()?.name, 'b');
  t.end();
});

void t.test('idle endpoints share evenly', (t) => {
  const cluster = fakeCluster({ a: 1, b: 1, c: 1 });
  const lb = new LeastRequest(cluster.members, mulberry32(11), 2);
  const n = 30_000;
  const got = countPicks(() => lb.pick(), n);
  for (const name of ['a', 'b', 'c']) {
    t.ok(Math.abs((got[name] ?? 0) / n - 1 / 3) < 0.015, `${name} ≈ 1/3: ${got[name] ?? 0}`);
  }
  t.end();
});

void t.test('unavailable endpoints are never sampled, however idle', (t) => {
  const cluster = fakeCluster({ a: 1, b: 1, c: 1 });
  cluster.get('a').available = false;
  cluster.get('b').inFlight = 10;
  cluster.get('c').inFlight = 20;
  const lb = new LeastRequest(cluster.members, mulberry32(2), 2);
  t.same(
    countPicks(() => lb.pick(), 200),
    { b: 200 },
  );
  cluster.get('c').available = false;
  t.same(
    countPicks(() => lb.pick(), 10),
    { b: 10 },
    'one left: always it',
  );
  cluster.get('b').available = false;
  t.same(
    countPicks(() => lb.pick(), 3),
    { '(none)': 3 },
    'none left: undefined',
  );
  t.end();
});

void t.test('choice_count below 2 is rejected', (t) => {
  const cluster = fakeCluster({ a: 1 });
  t.throws(() => new LeastRequest(cluster.members, Math.random, 1), RangeError);
  t.throws(() => new LeastRequest(cluster.members, Math.random, 2.5), RangeError);
  t.end();
});
