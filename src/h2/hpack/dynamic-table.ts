/**
 * The HPACK dynamic table (RFC 7541 §2.3.2, §4): a FIFO of (name, value)
 * entries kept in a ring buffer, newest at dynamic index 1. Size is counted
 * as in §4.1 (name octets + value octets + 32; names and values are latin1
 * strings, so length = octets). Adding past the maximum evicts the oldest
 * entries (§4.4); an entry larger than the maximum empties the table.
 * Shared by the decoder and the encoder; the encoder listens to evictions
 * to keep its lookup maps small.
 */

/** Per-entry overhead of §4.1. */
export const ENTRY_OVERHEAD = 32;

/** Called for every entry leaving the table; `sequence` is its insertion number. */
export type EvictionListener = (name: string, value: string, sequence: number) => void;

const INITIAL_CAPACITY = 16;

export class DynamicTable {
  private names: string[] = new Array<string>(INITIAL_CAPACITY).fill('');
  private values: string[] = new Array<string>(INITIAL_CAPACITY).fill('');
  private mask = INITIAL_CAPACITY - 1;
  /** Ring position of the oldest entry. */
  private oldest = 0;
  private entryCount = 0;
  private octets = 0;
  private maxOctets: number;
  /** Entries ever added; the newest entry's sequence is insertCount - 1. */
  private inserted = 0;
  private readonly onEvict: EvictionListener | undefined;

  constructor(maxSize: number, onEvict?: EvictionListener) {
    this.maxOctets = maxSize;
    this.onEvict = onEvict;
  }

  /** Number of entries. */
  get length(): number {
    return this.entryCount;
  }

  /** Current size in octets (§4.1). */
  get size(): number {
    return this.octets;
  }

  get maxSize(): number {
    return this.maxOctets;
  }

  /** Entries ever added (the sequence number the next entry gets). */
  get insertCount(): number {
    return this.inserted;
  }

  /** Name at dynamic index `index` (1 = newest). Caller checks 1 <= index <= length. */
  name(index: number): string {
    return this.names[(this.oldest + this.entryCount - index) & this.mask] ?? '';
  }

  /** Value at dynamic index `index` (1 = newest). Caller checks 1 <= index <= length. */
  value(index: number): string {
    return this.values[(this.oldest + this.entryCount - index) & this.mask] ?? '';
  }

  /** Dynamic index (1 = newest) of the entry with insertion number `sequence`, or 0 if evicted. */
  indexOfSequence(sequence: number): number {
    const index = this.inserted - sequence;
    return index >= 1 && index <= this.entryCount ? index : 0;
  }

  /**
   * Adds an entry (§4.4): evicts until it fits; an entry larger than the
   * maximum size empties the table and is not added. `entrySize` is
   * name.length + value.length + 32, passed in because callers know it.
   * Returns whether the entry was added.
   */
  add(name: string, value: string, entrySize: number): boolean {
    if (entrySize > this.maxOctets) {
      this.evictTo(0);
      return false;
    }
    this.evictTo(this.maxOctets - entrySize);
    if (this.entryCount > this.mask) this.grow();
    const position = (this.oldest + this.entryCount) & this.mask;
    this.names[position] = name;
    this.values[position] = value;
    this.entryCount++;
    this.octets += entrySize;
    this.inserted++;
    return true;
  }

  /** Applies a new maximum size (§4.3), evicting as needed. */
  setMaxSize(maxSize: number): void {
    this.maxOctets = maxSize;
    this.evictTo(maxSize);
  }

  private evictTo(targetSize: number): void {
    while (this.octets > targetSize && this.entryCount > 0) {
      const position = this.oldest;
      const name = this.names[position] ?? '';
      const value = this.values[position] ?? '';
      this.names[position] = '';
      this.values[position] = '';
      this.octets -= name.length + value.length + ENTRY_OVERHEAD;
      this.oldest = (position + 1) & this.mask;
      this.entryCount--;
      if (this.onEvict !== undefined) {
        this.onEvict(name, value, this.inserted - this.entryCount - 1);
      }
    }
  }

  private grow(): void {
    const capacity = (this.mask + 1) * 2;
    const names = new Array<string>(capacity).fill('');
    const values = new Array<string>(capacity).fill('');
    for (let i = 0; i < this.entryCount; i++) {
      const position = (this.oldest + i) & this.mask;
      names[i] = this.names[position] ?? '';
      values[i] = this.values[position] ?? '';
    }
    this.names = names;
    this.values = values;
    this.mask = capacity - 1;
    this.oldest = 0;
  }
}
