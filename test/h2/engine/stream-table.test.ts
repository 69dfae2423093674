/**
 * StreamTable against a Map, over seeded random runs shaped like a
 * connection's life (ids rising by 2, most streams short, a few long ones
 * left behind, growth), and the wrap-around case of backward-shift deletion.
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

void t.test('deleting within a run that wraps the end of the slots', (t) => {
  // 16 slots: ids 29, 31 have homes 14, 15; 61, 63 (homes 14, 15) probe on
  // past the end to slots 0 and 1.
  const table = new StreamTable<string>(16);
  for (const id of [29, 31, 61, 63]) table.set(id, String(id));
  t.ok(table.delete(29));
  t.equal(table.get(31), '31');
  t.equal(table.get(61), '61', 'moved back across the wrap');
  t.equal(table.get(63), '63');
  t.ok(table.delete(61));
  t.equal(table.get(63), '63');
  t.equal(table.get(61), undefined);
  t.notOk(table.delete(61), 'gone');
  t.equal(table.size, 2);
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
