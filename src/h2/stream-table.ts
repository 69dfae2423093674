/**
 * A connection's open streams by id: an open-addressing hash table that
 * allocates nothing while its size stays under the capacity it has grown to.
 *
 * Why not a Map: a connection opens and closes a stream per call, and a
 * Map under that churn rebuilds its hash table every few dozen calls (its
 * deleted entries stay until the next rebuild): about 200 bytes of garbage
 * per call on a proxy's two connections, measured. Here deletion shifts the
 * following entries back (linear probing with backward-shift deletion), so
 * no tombstones build up and the arrays are reused forever.
 *
 * Ids are spread by Fibonacci hashing (multiply, keep the top bits). Not
 * `id >>> 1`, which would put a connection's live window of ids, a few
 * hundred consecutive odd numbers on a busy upstream connection, in one run
 * of consecutive slots, and each deletion's backward shift would scan the
 * whole run (measured: 1.3% of a proxied call). Scattered, runs stay a few
 * slots long at the load kept here (at most half full).
 * Id 0 (the connection) marks an empty slot.
 */
export class StreamTable<T> {
  #ids: Int32Array;
  #values: (T | undefined)[];
  #mask: number;
  /** 32 - log2(slots): the shift that keeps a hash's top bits. */
  #shift: number;
  #size = 0;

  constructor(capacity = 16) {
    // A power of two at least 2.
    let slots = 2;
    while (slots < capacity) slots *= 2;
    this.#ids = new Int32Array(slots);
    this.#values = new Array<T | undefined>(slots).fill(undefined);
    this.#mask = slots - 1;
    this.#shift = 32 - Math.log2(slots);
  }

  get size(): number {
    return this.#size;
  }

  get(id: number): T | undefined {
    const ids = this.#ids;
    const mask = this.#mask;
    for (let i = this.#home(id); ; i = (i + 1) & mask) {
      const at = ids[i];
      if (at === id) return this.#values[i];
      if (at === 0) return undefined;
    }
  }

  /** Adds or replaces the entry of `id` (a stream id: 1 to 2^31-1). */
  set(id: number, value: T): void {
    if ((this.#size + 1) * 2 > this.#ids.length) this.#grow();
    const ids = this.#ids;
    const mask = this.#mask;
    for (let i = this.#home(id); ; i = (i + 1) & mask) {
      const at = ids[i];
      if (at === id) {
        this.#values[i] = value;
        return;
      }
      if (at === 0) {
        ids[i] = id;
        this.#values[i] = value;
        this.#size++;
        return;
      }
    }
  }

  delete(id: number): boolean {
    const ids = this.#ids;
    const values = this.#values;
    const mask = this.#mask;
    let hole = this.#home(id);
    for (;;) {
      const at = ids[hole];
      if (at === id) break;
      if (at === 0) return false;
      hole = (hole + 1) & mask;
    }
    this.#size--;
    // Move back each later entry of the run that may not sit beyond the hole
    // (its home slot is not cyclically within (hole, j]).
    for (let j = (hole + 1) & mask; ; j = (j + 1) & mask) {
      const at = ids[j] ?? 0;
      if (at === 0) break;
      const home = this.#home(at);
      const homeInRange = hole <= j ? hole < home && home <= j : hole < home || home <= j;
      if (homeInRange) continue;
      ids[hole] = at;
      values[hole] = values[j];
      hole = j;
    }
    ids[hole] = 0;
    values[hole] = undefined;
    return true;
  }

  /** The entries now, as an array: safe to use while entries are deleted. */
  values(): T[] {
    const out: T[] = [];
    const ids = this.#ids;
    for (let i = 0; i < ids.length; i++) {
      if (ids[i] !== 0) out.push(this.#values[i] as T);
    }
    return out;
  }

  /** The slot an id's probe starts at (Fibonacci hashing: 2^32 / φ). */
  #home(id: number): number {
    return Math.imul(id, 0x9e3779b1) >>> this.#shift;
  }

  #grow(): void {
    const oldIds = this.#ids;
    const oldValues = this.#values;
    const slots = oldIds.length * 2;
    this.#ids = new Int32Array(slots);
    this.#values = new Array<T | undefined>(slots).fill(undefined);
    this.#mask = slots - 1;
    this.#shift = 32 - Math.log2(slots);
    this.#size = 0;
    for (let i = 0; i < oldIds.length; i++) {
      const id = oldIds[i] ?? 0;
      if (id !== 0) this.set(id, oldValues[i] as T);
    }
  }
}
