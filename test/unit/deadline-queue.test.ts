// Call deadlines in per-timeout lists (src/proxy/deadline-queue.ts): each
// entry expires once, at its own deadline, in deadline order; removed
// entries never fire; lists and their timers go when their last entry does.
// Driven by a ManualClock, checked against a plain model over random runs.
import t from 'tap';
import { Deadlined, DeadlineQueue } from '../../src/proxy/deadline-queue.js';
import { ManualClock } from '../helpers/manual-clock.js';

class Entry extends Deadlined {
  firedAt: number | undefined;
  constructor(
    readonly name: string,
    private readonly clock: ManualClock,
    private readonly fired: Entry[],
  ) {
    super();
  }
  onDeadline(): void {
    this.firedAt = this.clock.now();
    this.fired.push(this);
  }
}

function names(entries: readonly Entry[]): string[] {
  return entries.map((e) => e.name);
}

function setup(): { clock: ManualClock; queue: DeadlineQueue; fired: Entry[] } {
  const clock = new ManualClock(0);
  return { clock, queue: new DeadlineQueue(clock), fired: [] };
}

void t.test('entries fire at their deadlines, in order, across lists', (t) => {
  const { clock, queue, fired } = setup();
  const a = new Entry('a', clock, fired);
  const b = new Entry('b', clock, fired);
  const c = new Entry('c', clock, fired);
  queue.add(a, 0, 100);
  clock.advance(10);
  queue.add(b, 10, 100);
  queue.add(c, 10, 50);
  t.equal(queue.listCount, 2);
  clock.advance(49);
  t.same(fired, [], 'nothing before its time');
  clock.advance(1);
  t.same(names(fired), ['c']);
  t.equal(c.firedAt, 60);
  clock.advance(40);
  t.same(names(fired), ['c', 'a']);
  t.equal(a.firedAt, 100);
  clock.advance(10);
  t.same(names(fired), ['c', 'a', 'b']);
  t.equal(b.firedAt, 110);
  t.equal(queue.listCount, 0, 'empty lists are dropped');
  t.equal(clock.pendingTimers, 0, 'with their timers');
  t.end();
});

void t.test('a removed entry never fires; the last one out cancels the timer', (t) => {
  const { clock, queue, fired } = setup();
  const a = new Entry('a', clock, fired);
  const b = new Entry('b', clock, fired);
  queue.add(a, 0, 100);
  queue.add(b, 0, 100);
  queue.remove(a);
  queue.remove(a); // twice is harmless
  clock.advance(100);
  t.same(names(fired), ['b']);
  const c = new Entry('c', clock, fired);
  queue.add(c, clock.now(), 30);
  queue.remove(c);
  t.equal(queue.listCount, 0);
  t.equal(clock.pendingTimers, 0);
  clock.advance(1000);
  t.same(names(fired), ['b']);
  t.end();
});

void t.test('an entry due before the tail of its list goes in order', (t) => {
  const { clock, queue, fired } = setup();
  const late = new Entry('late', clock, fired);
  const early = new Entry('early', clock, fired);
  clock.advance(20);
  queue.add(late, 20, 100);
  queue.add(early, 0, 100); // started before, added after (a clock step)
  clock.advance(80);
  t.same(names(fired), ['early']);
  t.equal(early.firedAt, 100);
  clock.advance(20);
  t.same(names(fired), ['early', 'late']);
  t.end();
});

void t.test('an entry may add and remove others while it fires', (t) => {
  const { clock, queue, fired } = setup();
  const other = new Entry('other', clock, fired);
  const again = new Entry('again', clock, fired);
  class Busy extends Entry {
    override onDeadline(): void {
      super.onDeadline();
      queue.remove(other);
      queue.add(again, clock.now(), 10);
    }
  }
  const busy = new Busy('busy', clock, fired);
  queue.add(busy, 0, 10);
  queue.add(other, 0, 10);
  clock.advance(10);
  t.same(names(fired), ['busy']);
  clock.advance(10);
  t.same(names(fired), ['busy', 'again']);
  t.equal(queue.listCount, 0);
  t.equal(clock.pendingTimers, 0);
  t.end();
});

void t.test('random runs match a model: each live entry fires once, at its deadline', (t) => {
  let state = 12345;
  const random = (n: number): number => {
    state = (state * 1_103_515_245 + 12_345) % 2 ** 31;
    return Math.floor((state / 2 ** 31) * n);
  };
  const { clock, queue, fired } = setup();
  const live = new Set<Entry>();
  const due = new Map<Entry, number>();
  for (let step = 0; step < 5000; step++) {
    const action = random(10);
    if (action < 5) {
      const entry = new Entry(`e${step}`, clock, fired);
      const timeout = [5, 50, 50, 200, 1 + random(300)][random(5)] ?? 5;
      queue.add(entry, clock.now(), timeout);
      live.add(entry);
      due.set(entry, clock.now() + timeout);
    } else if (action < 8 && live.size > 0) {
      const victim = [...live][random(live.size)];
      if (victim !== undefined) {
        queue.remove(victim);
        live.delete(victim);
      }
    } else {
      const before = fired.length;
      clock.advance(1 + random(40));
      for (const entry of fired.slice(before)) {
        if (!live.has(entry)) t.fail(`${entry.name} fired after removal or twice`);
        live.delete(entry);
      }
    }
    for (const entry of live) {
      if ((due.get(entry) ?? 0) <= clock.now()) t.fail(`${entry.name} overdue`);
    }
  }
  clock.advance(10_000);
  t.equal(live.size, fired.filter((e) => live.has(e)).length, 'every live entry fired at the end');
  // On time, or at most EARLY_MS (1 ms) early, as Node's own timers may be.
  const late = fired.filter((e) => (e.firedAt ?? 0) > (due.get(e) ?? 0));
  const early = fired.filter((e) => (e.firedAt ?? 0) < (due.get(e) ?? 0) - 1);
  t.same(
    late.map((e) => e.name),
    [],
    'none late',
  );
  t.same(
    early.map((e) => e.name),
    [],
    'none more than 1 ms early',
  );
  t.ok(fired.length > 1000, `${fired.length} fired`);
  t.equal(queue.listCount, 0);
  t.equal(clock.pendingTimers, 0);
  t.end();
});
