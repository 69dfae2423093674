// Smooth weighted round robin over plain `{ available }` endpoints.
import t from 'tap';
import { RoundRobin } from '../../src/lb/round-robin.js';

interface FakeEndpoint {
  readonly name: string;
  available: boolean;
  readonly inFlight: number;
  readonly draining: boolean;
}

function endpoint(name: string): FakeEndpoint {
  return { name, available: true, inFlight: 0, draining: false };
}

function balancer(weights: Record<string, number>): {
  rr: RoundRobin<FakeEndpoint>;
  byName: Map<string, FakeEndpoint>;
} {
  const byName = new Map<string, FakeEndpoint>();
  const members = Object.entries(weights).map(([name, weight]) => {
    const e = endpoint(name);
    byName.set(name, e);
    return { endpoint: e, weight };
  });
  return { rr: new RoundRobin(members), byName };
}

function picks(rr: RoundRobin<FakeEndpoint>, n: number): (string | undefined)[] {
  return Array.from({ length: n }, () => rr.pick()?.name);
}

function counts(names: readonly (string | undefined)[]): Record<string, number> {
  const out: Record<string, number> = {};
  for (const name of names) {
    const key = name ?? '(none)';
    out[key] = (out[key] ?? 0) + 1;
  }
  return out;
}

function longestRun(names: readonly (string | undefined)[]): number {
  let longest = 0;
  let run = 0;
  for (let i = 0; i < names.length; i++) {
    run = i > 0 && names[i] === names[i - 1] ? run + 1 : 1;
    longest = Math.max(longest, run);
  }
  return longest;
}

function setAvailable(byName: Map<string, FakeEndpoint>, name: string, available: boolean): void {
  const e = byName.get(name);
  if (e === undefined) throw new Error(`no endpoint ${name}`);
  e.available = available;
}

void t.test('exact pick sequences', (t) => {
  // Worked by hand: each pick adds every weight to its score, takes the
  // highest (first on a tie) and subtracts the total weight from it.
  //   a=1,b=2,c=3, total 6:
  //   scores after +w      pick   after -6
  //   (1, 2, 3)            c      (1, 2,-3)
  //   (2, 4, 0)            b      (2,-2, 0)
  //   (3, 0, 3)  tie a/c   a      (-3,0, 3)
  //   (-2,2, 6)            c      (-2,2, 0)
  //   (-1,4, 3)            b      (-1,-2,3)
  //   (0, 0, 6)            c      (0, 0, 0)  back to the start
  const cases: { name: string; weights: Record<string, number>; expected: string[] }[] = [
    {
      name: 'equal weights cycle in member order',
      weights: { x: 1, y: 1, z: 1 },
      expected: ['x', 'y', 'z', 'x', 'y', 'z', 'x', 'y', 'z'],
    },
    {
      name: 'equal weights above 1 behave like weight 1',
      weights: { x: 5, y: 5 },
      expected: ['x', 'y', 'x', 'y'],
    },
    {
      name: 'weights 1:2:3 interleave as c b a c b c, then repeat',
      weights: { a: 1, b: 2, c: 3 },
      expected: ['c', 'b', 'a', 'c', 'b', 'c', 'c', 'b', 'a', 'c', 'b', 'c'],
    },
    {
      name: 'weights 5:1:1 spread the small members (nginx example)',
      weights: { a: 5, b: 1, c: 1 },
      expected: ['a', 'a', 'b', 'a', 'c', 'a', 'a'],
    },
    {
      name: 'a single member is always picked',
      weights: { only: 7 },
      expected: ['only', 'only', 'only'],
    },
  ];
  for (const c of cases) {
    const { rr } = balancer(c.weights);
    t.same(picks(rr, c.expected.length), c.expected, c.name);
  }
  t.end();
});

void t.test('shares over whole rounds equal the weights and runs stay short', (t) => {
  const cases: { weights: Record<string, number>; rounds: number; maxRun: number }[] = [
    { weights: { a: 1, b: 1, c: 1, d: 1 }, rounds: 25, maxRun: 1 },
    { weights: { a: 1, b: 2, c: 3 }, rounds: 10, maxRun: 2 },
    { weights: { a: 3, b: 1 }, rounds: 10, maxRun: 3 },
    { weights: { a: 10, b: 7, c: 2, d: 1 }, rounds: 5, maxRun: 2 },
  ];
  for (const c of cases) {
    const total = Object.values(c.weights).reduce((sum, w) => sum + w, 0);
    const { rr } = balancer(c.weights);
    const sequence = picks(rr, total * c.rounds);
    const expected = Object.fromEntries(
      Object.entries(c.weights).map(([name, w]) => [name, w * c.rounds]),
    );
    const label = JSON.stringify(c.weights);
    t.same(counts(sequence), expected, `${label}: each member gets exactly its share`);
    t.ok(longestRun(sequence) <= c.maxRun, `${label}: no run longer than ${c.maxRun}`);
    // Every single round, not just the sum, has exact shares.
    for (let round = 0; round < c.rounds; round++) {
      const slice = sequence.slice(round * total, (round + 1) * total);
      t.same(counts(slice), c.weights, `${label} round ${round}`);
    }
  }
  t.end();
});

void t.test('1:2:3 over 6 picks: exact shares, never three in a row', (t) => {
  const { rr } = balancer({ a: 1, b: 2, c: 3 });
  const sequence = picks(rr, 6);
  t.same(counts(sequence), { a: 1, b: 2, c: 3 });
  t.ok(longestRun(sequence) < 3, `no member three times in a row: ${sequence.join(' ')}`);
  t.same(sequence, ['c', 'b', 'a', 'c', 'b', 'c']);
  t.end();
});

void t.test('an unavailable member is skipped and the others share evenly', (t) => {
  const cases: {
    weights: Record<string, number>;
    down: string[];
    expected: Record<string, number>;
  }[] = [
    { weights: { a: 1, b: 1, c: 1 }, down: ['b'], expected: { a: 50, c: 50 } },
    { weights: { a: 1, b: 1, c: 1 }, down: ['a'], expected: { b: 50, c: 50 } },
    { weights: { a: 1, b: 1, c: 1 }, down: ['c'], expected: { a: 50, b: 50 } },
    { weights: { a: 1, b: 1, c: 1, d: 1 }, down: ['a', 'd'], expected: { b: 50, c: 50 } },
    { weights: { a: 1, b: 2, c: 3 }, down: ['c'], expected: { a: 33, b: 67 } },
  ];
  for (const c of cases) {
    const { rr, byName } = balancer(c.weights);
    for (const name of c.down) setAvailable(byName, name, false);
    const sequence = picks(rr, 100);
    const label = `${JSON.stringify(c.weights)} without ${c.down.join(',')}`;
    const got = counts(sequence);
    for (const name of c.down) t.notOk(name in got, `${label}: ${name} never picked`);
    for (const [name, share] of Object.entries(c.expected)) {
      t.ok(
        Math.abs((got[name] ?? 0) - share) <= 1,
        `${label}: ${name} got ${got[name] ?? 0} ≈ ${share}`,
      );
    }
  }
  t.end();
});

void t.test('equal weights with one member down alternate strictly', (t) => {
  const { rr, byName } = balancer({ a: 1, b: 1, c: 1 });
  setAvailable(byName, 'b', false);
  t.same(picks(rr, 6), ['a', 'c', 'a', 'c', 'a', 'c']);
  t.end();
});

void t.test('all members unavailable gives undefined, every time', (t) => {
  const { rr, byName } = balancer({ a: 1, b: 2 });
  setAvailable(byName, 'a', false);
  setAvailable(byName, 'b', false);
  t.same(picks(rr, 3), [undefined, undefined, undefined]);
  setAvailable(byName, 'b', true);
  t.same(picks(rr, 2), ['b', 'b'], 'picks resume once one is back');
  t.end();
});

void t.test('no members gives undefined', (t) => {
  const rr = new RoundRobin<FakeEndpoint>([]);
  t.equal(rr.pick(), undefined);
  t.end();
});

void t.test('a member coming back is used again', (t) => {
  const { rr, byName } = balancer({ a: 1, b: 1, c: 1 });
  t.same(picks(rr, 3), ['a', 'b', 'c']);
  setAvailable(byName, 'b', false);
  t.same(picks(rr, 4), ['a', 'c', 'a', 'c']);
  setAvailable(byName, 'b', true);
  t.same(picks(rr, 6), ['a', 'b', 'c', 'a', 'b', 'c'], 'b is back in the cycle at once');

  // Weighted: the returning member gets its full share again.
  const w = balancer({ a: 1, b: 2, c: 3 });
  setAvailable(w.byName, 'c', false);
  picks(w.rr, 7);
  setAvailable(w.byName, 'c', true);
  const after = picks(w.rr, 60);
  const got = counts(after);
  t.ok(Math.abs((got.c ?? 0) - 30) <= 3, `c back at about half the picks: ${got.c ?? 0}`);
  t.ok(Math.abs((got.b ?? 0) - 20) <= 3, `b about a third: ${got.b ?? 0}`);
  t.ok(Math.abs((got.a ?? 0) - 10) <= 3, `a about a sixth: ${got.a ?? 0}`);
  t.end();
});

void t.test('returns the endpoint objects themselves', (t) => {
  const { rr, byName } = balancer({ a: 1 });
  t.equal(rr.pick(), byName.get('a'));
  t.end();
});
