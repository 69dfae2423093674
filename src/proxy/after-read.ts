/**
 * Work deferred until the current socket read has been handled: every item
 * added during one read is run in one microtask, in the order added, with
 * no closure or microtask per item. The data path defers two things this
 * way: an upstream half-close (a cancel in the same read supersedes it) and
 * the timer of a retried call's held response headers (the reply's rest
 * usually settles the hold in the same read).
 */
export class AfterRead<T> {
  #items: T[] = [];
  readonly #run: (item: T) => void;

  constructor(run: (item: T) => void) {
    this.#run = run;
  }

  add(item: T): void {
    if (this.#items.push(item) === 1) queueMicrotask(this.#drain);
  }

  readonly #drain = (): void => {
    const items = this.#items;
    this.#items = [];
    for (const item of items) this.#run(item);
  };
}
