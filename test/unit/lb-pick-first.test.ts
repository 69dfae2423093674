// Pick first: list order, skipping unavailable endpoints.
import t from 'tap';
import { PickFirst } from '../../src/lb/pick-first.js';
import { countPicks, fakeCluster } from '../helpers/lb-fakes.js';

void t.test('the first available endpoint in list order takes every call', (t) => {
  const cases: { order: string[]; down: string[]; expected: string | undefined }[] = [
    { order: ['a', 'b', 'c'], down: [], expected: 'a' },
    { order: ['c', 'b', 'a'], down: [], expected: 'c' },
    { order: ['a', 'b', 'c'], down: ['a'], expected: 'b' },
    { order: ['a', 'b', 'c'], down: ['a', 'b'], expected: 'c' },
    { order: ['a', 'b', 'c'], down: ['b'], expected: 'a' },
    { order: ['a', 'b', 'c'], down: ['a', 'b', 'c'], expected: undefined },
    { order: [], down: [], expected: undefined },
  ];
  for (const c of cases) {
    // Weights must not matter: give the last the largest.
    const cluster = fakeCluster(Object.fromEntries(c.order.map((name, i) => [name, i + 1])));
    for (const name of c.down) cluster.get(name).available = false;
    const lb = new PickFirst(cluster.members);
    const got = countPicks(() => lb.pick(), 20);
    t.same(
      got,
      { [c.expected ?? '(none)']: 20 },
      `[${c.order.join(',')}] without [${c.down.join(',')}]`,
    );
  }
  t.end();
});

void t.test('the first endpoint takes over again when it comes back', (t) => {
  const cluster = fakeCluster({ a: 1, b: 1 });
  const lb = new PickFirst(cluster.members);
  t.equal(lb.pick()?.name, 'a');
  cluster.get('a').available = false;
  t.equal(lb.pick()?.name, 'b');
  cluster.get('a').available = true;
  t.equal(lb.pick()?.name, 'a');
  t.end();
});
