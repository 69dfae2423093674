/**
 * Call deadlines without a timer per call. Calls with the same timeout join
 * one list; a call started later expires later, so each list is in expiry
 * order and needs a single timer, armed for its first entry. Adding and
 * removing a call is linking and unlinking it (the entry is the call itself,
 * through the `Deadlined` base class): no Timeout object, no closure (a
 * timer per call was about a twentieth of a proxied call's garbage).
 *
 * This is the shape of Node's own timer lists (one list per duration), kept
 * here so the entries are the calls. Real clients send a remaining deadline
 * (`grpc-timeout: 4987m`), so lists come and go; a list whose last entry
 * leaves is dropped with its timer, and an entry that would expire before
 * its list's tail (a clock step) is placed in order.
 *
 * Per process: workers each have their own, like their own calls.
 */
import { systemClock, type Clock, type ClockTimer } from '../health/clock.js';

/** Something with a deadline: the queue links it through these fields. */
export abstract class Deadlined {
  /** @internal When it expires (the queue's clock, ms). */
  deadlineAt = 0;
  /** @internal */
  deadlinePrev: Deadlined | undefined;
  /** @internal */
  deadlineNext: Deadlined | undefined;
  /** @internal The list it is in; undefined when it is in none. */
  deadlineList: DeadlineList | undefined;

  /** The deadline passed. Called once, after the entry has left the queue. */
  abstract onDeadline(): void;
}

/**
 * performance.now() (the calls' own clock: their start and deadline) and
 * Node's timers, unreferenced: a call with a deadline has a live socket that
 * keeps the process up, and a list's timer must not outlive the calls.
 */
export const MONOTONIC_CLOCK: Clock = {
  now: () => performance.now(),
  setTimeout: (callback, ms) => systemClock.setTimeout(callback, ms),
};

/**
 * How early a deadline may fire (ms): Node's timers measure from the event
 * loop's cached time, so they can run up to a millisecond before
 * `performance.now()` says the time is up; a per-call setTimeout did too.
 */
const EARLY_MS = 1;

class DeadlineList {
  head: Deadlined | undefined;
  tail: Deadlined | undefined;
  timer: ClockTimer | undefined;
  timerAt = Infinity;

  constructor(readonly key: number) {}
}

export class DeadlineQueue {
  readonly #lists = new Map<number, DeadlineList>();
  readonly #clock: Clock;

  constructor(clock: Clock = MONOTONIC_CLOCK) {
    this.#clock = clock;
  }

  /** Number of lists (distinct timeouts with calls waiting), for tests. */
  get listCount(): number {
    return this.#lists.size;
  }

  /** `entry` expires `timeoutMs` after `startedAt` (the clock's time); it must be in no list. */
  add(entry: Deadlined, startedAt: number, timeoutMs: number): void {
    // Whole milliseconds: `4999123u` and `4999456u` share a list (in order by the walk below).
    const key = Math.ceil(timeoutMs);
    let list = this.#lists.get(key);
    if (list === undefined) {
      list = new DeadlineList(key);
      this.#lists.set(key, list);
    }
    const at = startedAt + timeoutMs;
    entry.deadlineAt = at;
    entry.deadlineList = list;
    let before = list.tail;
    while (before !== undefined && before.deadlineAt > at) before = before.deadlinePrev;
    this.#linkAfter(list, entry, before);
    if (list.head === entry) this.#arm(list);
  }

  /** Takes `entry` out of its list (if any): its deadline no longer matters. */
  remove(entry: Deadlined): void {
    const list = entry.deadlineList;
    if (list === undefined) return;
    this.#unlink(list, entry);
    if (list.head === undefined) this.#drop(list);
  }

  #linkAfter(list: DeadlineList, entry: Deadlined, before: Deadlined | undefined): void {
    const after = before === undefined ? list.head : before.deadlineNext;
    entry.deadlinePrev = before;
    entry.deadlineNext = after;
    if (before === undefined) list.head = entry;
    else before.deadlineNext = entry;
    if (after === undefined) list.tail = entry;
    else after.deadlinePrev = entry;
  }

  #unlink(list: DeadlineList, entry: Deadlined): void {
    const { deadlinePrev: prev, deadlineNext: next } = entry;
    if (prev === undefined) list.head = next;
    else prev.deadlineNext = next;
    if (next === undefined) list.tail = prev;
    else next.deadlinePrev = prev;
    entry.deadlinePrev = undefined;
    entry.deadlineNext = undefined;
    entry.deadlineList = undefined;
  }

  /**
   * Makes the list's timer fire by its head's deadline. A timer already due
   * no later is kept: when the head leaves early (the common case, a call
   * that finished), the timer fires for nothing once and re-arms, rather
   * than being re-armed on every call.
   */
  #arm(list: DeadlineList): void {
    const head = list.head;
    if (head === undefined || list.timerAt <= head.deadlineAt) return;
    list.timer?.cancel();
    list.timerAt = head.deadlineAt;
    const delay = Math.max(1, Math.ceil(head.deadlineAt - this.#clock.now()));
    list.timer = this.#clock.setTimeout(() => {
      this.#fire(list);
    }, delay);
  }

  #fire(list: DeadlineList): void {
    list.timer = undefined;
    list.timerAt = Infinity;
    const now = this.#clock.now();
    let head = list.head;
    while (head !== undefined && head.deadlineAt <= now + EARLY_MS) {
      this.#unlink(list, head);
      head.onDeadline();
      head = list.head;
    }
    if (list.head === undefined) this.#drop(list);
    else this.#arm(list);
  }

  #drop(list: DeadlineList): void {
    list.timer?.cancel();
    list.timer = undefined;
    list.timerAt = Infinity;
    // A list may be re-created under the same timeout while this one fired.
    if (this.#lists.get(list.key) === list) this.#lists.delete(list.key);
  }
}

/** The process's call deadlines. */
export const callDeadlines = new DeadlineQueue();
