// Ring hash: consistent hashing of a header over plain endpoints.
import t from 'tap';
import type { PickRequest } from '../../src/lb/load-balancer.js';
import { hash32, RingHash } from '../../src/lb/ring-hash.js';
import {
  countPicks,
  fakeCluster,
  mulberry32,
  NO_HEADERS,
  scripted,
  type FakeCluster,
} from '../helpers/lb-fakes.js';

const HEADER = 'x-user-id';
const KEYS = Array.from({ length: 1000 }, (_, i) => `user-${i}`);

function request(value: string): PickRequest {
  return { headers: { [HEADER]: value } };
}

/** Which endpoint name each key lands on. */
function assignments(cluster: FakeCluster, random?: () => number): Map<string, string> {
  const lb = new RingHash(cluster.members, random ?? scripted([]), HEADER);
  return new Map(KEYS.map((key) => [key, lb.pick(request(key))?.name ?? '(none)']));
}

function moved(before: Map<string, string>, after: Map<string, string>): string[] {
  return KEYS.filter((key) => before.get(key) !== after.get(key));
}

function shares(assigned: Map<string, string>): Record<string, number> {
  const out: Record<string, number> = {};
  for (const name of assigned.values()) out[name] = (out[name] ?? 0) + 1;
  return out;
}

void t.test('the same key always lands on the same endpoint, across rings', (t) => {
  const first = assignments(fakeCluster({ a: 1, b: 1, c: 1 }));
  const again = assignments(fakeCluster({ a: 1, b: 1, c: 1 }));
  t.same([...first], [...again], 'a new ring over the same endpoints agrees on every key');
  const reordered = assignments(fakeCluster({ c: 1, a: 1, b: 1 }));
  t.same([...first], [...reordered], 'list order does not matter, only the keys');
  const cluster = fakeCluster({ a: 1, b: 1, c: 1 });
  const lb = new RingHash(cluster.members, scripted([]), HEADER);
  for (const key of KEYS.slice(0, 100)) {
    t.equal(lb.pick(request(key))?.name, first.get(key), `${key} repeatable`);
  }
  t.end();
});

void t.test('keys spread over the endpoints by weight', (t) => {
  const even = shares(assignments(fakeCluster({ a: 1, b: 1, c: 1 })));
  for (const name of ['a', 'b', 'c']) {
    t.ok((even[name] ?? 0) > 250 && (even[name] ?? 0) < 420, `${name}: ${even[name] ?? 0} of 1000`);
  }
  const weighted = shares(assignments(fakeCluster({ a: 1, b: 3 })));
  t.ok((weighted['b'] ?? 0) > 650 && (weighted['b'] ?? 0) < 850, `b (3:1): ${weighted['b'] ?? 0}`);
  t.end();
});

void t.test('adding a 4th endpoint moves about a quarter of keys, all to it', (t) => {
  const before = assignments(fakeCluster({ a: 1, b: 1, c: 1 }));
  const after = assignments(fakeCluster({ a: 1, b: 1, c: 1, d: 1 }));
  const changed = moved(before, after);
  t.ok(changed.length <= 400, `${changed.length} of 1000 keys moved (at most 400)`);
  t.ok(changed.length >= 100, `${changed.length} keys moved to the new endpoint (some must)`);
  t.same([...new Set(changed.map((key) => after.get(key)))], ['d'], 'every moved key moved to d');
  t.end();
});

void t.test('removing an endpoint moves only its keys', (t) => {
  const before = assignments(fakeCluster({ a: 1, b: 1, c: 1, d: 1 }));
  const after = assignments(fakeCluster({ a: 1, c: 1, d: 1 }));
  const changed = moved(before, after);
  t.same(
    changed,
    KEYS.filter((key) => before.get(key) === 'b'),
    'exactly the keys b had moved',
  );
  t.end();
});

void t.test('an unavailable endpoint: its keys walk on, the rest stay, and return after', (t) => {
  const cluster = fakeCluster({ a: 1, b: 1, c: 1 });
  const lb = new RingHash(cluster.members, scripted([]), HEADER);
  const before = new Map(KEYS.map((key) => [key, lb.pick(request(key))?.name]));
  cluster.get('b').available = false;
  const during = new Map(KEYS.map((key) => [key, lb.pick(request(key))?.name]));
  for (const key of KEYS) {
    if (before.get(key) === 'b') {
      if (during.get(key) === 'b' || during.get(key) === undefined)
        t.fail(`${key} not moved off b`);
    } else if (during.get(key) !== before.get(key)) {
      t.fail(`${key} moved from ${before.get(key)} to ${during.get(key)}`);
    }
  }
  t.notOk([...during.values()].includes('b'), 'b gets nothing while unavailable');
  cluster.get('b').available = true;
  const after = new Map(KEYS.map((key) => [key, lb.pick(request(key))?.name]));
  t.same([...after], [...before], 'every key is back where it was');
  t.end();
});

void t.test('the walk skips several unavailable endpoints; none available gives undefined', (t) => {
  const cluster = fakeCluster({ a: 1, b: 1, c: 1, d: 1 });
  const lb = new RingHash(cluster.members, scripted([]), HEADER);
  for (const name of ['a', 'b', 'c']) cluster.get(name).available = false;
  const everyKeyOnD = KEYS.every((key) => lb.pick(request(key))?.name === 'd');
  t.ok(everyKeyOnD, 'every key walks on to d');
  cluster.get('d').available = false;
  t.equal(lb.pick(request('user-1')), undefined);
  t.end();
});

void t.test('a call without the header is spread at random', (t) => {
  const cluster = fakeCluster({ a: 1, b: 1, c: 1 });
  const lb = new RingHash(cluster.members, mulberry32(4), HEADER);
  const n = 30_000;
  const got = countPicks(() => lb.pick(NO_HEADERS), n);
  for (const name of ['a', 'b', 'c']) {
    t.ok(Math.abs((got[name] ?? 0) / n - 1 / 3) < 0.015, `${name} ≈ 1/3: ${got[name] ?? 0}`);
  }
  // The injected source decides: 0 → first, 0.99 → last.
  t.equal(new RingHash(cluster.members, () => 0, HEADER).pick(NO_HEADERS)?.name, 'a');
  t.equal(new RingHash(cluster.members, () => 0.99, HEADER).pick(NO_HEADERS)?.name, 'c');
  // Other headers do not count.
  t.equal(
    new RingHash(cluster.members, () => 0.99, HEADER).pick({ headers: { 'x-other': '1' } })?.name,
    'c',
  );
  t.end();
});

void t.test(
  'the header is looked up in lower case; a repeated header hashes its joined values',
  (t) => {
    const cluster = fakeCluster({ a: 1, b: 1, c: 1 });
    const lb = new RingHash(cluster.members, scripted([]), 'X-User-Id');
    const plain = new RingHash(cluster.members, scripted([]), HEADER);
    for (const key of KEYS.slice(0, 50)) {
      t.equal(lb.pick(request(key)), plain.pick(request(key)), key);
    }
    t.equal(
      plain.pick({ headers: { [HEADER]: ['u1', 'u2'] } }),
      plain.pick(request('u1,u2')),
      'array value = its comma-joined form',
    );
    t.end();
  },
);

void t.test('hash32 is FNV-1a with a finaliser: stable, unsigned, spread', (t) => {
  t.equal(hash32('abc'), hash32('abc'));
  t.ok(hash32('') >= 0 && hash32('') <= 0xffffffff);
  const hashes = Array.from({ length: 1000 }, (_, i) => hash32(`10.0.0.1:50051#${i}`));
  t.equal(new Set(hashes).size, 1000, 'no collisions among 1000 virtual nodes');
  // Top bit set in about half: neighbouring keys are not clustered on the ring.
  const high = hashes.filter((h) => h >= 0x80000000).length;
  t.ok(high > 430 && high < 570, `${high} of 1000 in the upper half`);
  t.end();
});
