/**
 * StreamTable against a Map, over seeded random runs shaped like a
 * connection's life (ids rising by 2, most streams short, a few long ones
 * left behind, growth), and a small full table whose runs wrap around.
 */
import t from 'tap';
import { StreamTable } from '../../../src/h2/stream-table.js';
import { mulberry32 } from '../../helpers/lb-fakes.js';

void t.test('random churn agrees with a Map', (t) => {
  for (const seed of [1, 2, 3, 4, 5, 6, 7, 8]) {
    const random = mulberry32(seed);
    const table = new StreamTable<string>(4);
    const map = new Map<number, string>();
    let nextId = seed % 2 === 0 ? 1 : 2;
    let mismatches = 0;
    for (let step = 0; step < 20_000; step++) {
      const r = random();
      if (r < 0.45 || map.size === 0) {
        const id = nextId;
        nextId += 2;
        table.set(id, `s${String(id)}`);
        map.set(id, `s${String(id)}`);
      } else if (r < 0.9) {
        // Mostly the oldest streams end; sometimes any one, or one not open.
        const ids = [...map.keys()];
        const id = random() < 0.2 ? nextId + 2 : (ids[Math.floor(random() * ids.length)] ?? 0);
        if (table.delete(id) !== map.delete(id)) mismatches++;
      } else {
        const id = 1 + 2 * Math.floor(random() * (nextId / 2 + 4));
        if (table.get(id) !== map.get(id)) mismatches++;
      }
      if (table.size !== map.size) mismatches++;
    }
    t.equal(mismatches, 0, `seed ${String(seed)}: get and delete as the Map`);
    for (const id of map.keys()) {
      if (table.get(id) !== map.get(id)) mismatches++;
    }
    t.equal(mismatches, 0, `seed ${String(seed)}: every entry found`);
    t.equal(table.size, map.size, 'size');
    t.same(table.values().sort(), [...map.values()].sort(), 'values');
  }
  t.end();
});

void t.test('a small table at its fullest: runs that wrap past the last slot', (t) => {
  // 16 slots, never grown, 8 entries: runs often cross from the last slot to
  // the first, and every delete shifts entries back across the wrap.
  const random = mulberry32(99);
  const table = new StreamTable<number>(16);
  const map = new Map<number, number>();
  let mismatches = 0;
  for (let step = 0; step < 20_000; step++) {
    const id = 1 + 2 * Math.floor(random() * 40);
    if (map.size < 8 && !map.has(id)) {
      table.set(id, step);
      map.set(id, step);
    } else if (table.delete(id) !== map.delete(id)) {
      mismatches++;
    }
    for (const [key, value] of map) if (table.get(key) !== value) mismatches++;
  }
  t.equal(mismatches, 0);
  t.equal(table.size, map.size);
  t.end();
});

void t.test('replacing an entry keeps the size; values() is a snapshot', (t) => {
  const table = new StreamTable<string>();
  table.set(1, 'a');
  table.set(1, 'b');
  t.equal(table.size, 1);
  t.equal(table.get(1), 'b');
  table.set(3, 'c');
  for (const value of table.values()) table.delete(value === 'b' ? 1 : 3);
  t.equal(table.size, 0, 'deleting while walking the snapshot');
  t.end();
});
