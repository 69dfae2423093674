/**
 * HpackEncoder: one connection's HPACK encoding context (RFC 7541 §2, §6).
 * Turns flat [name, value, ...] arrays into header blocks.
 *
 * Choices per field:
 * - credentials and cookies: literal never indexed (§7.1.3), so neither
 *   this hop nor the next puts them in a compression context;
 * - exact match in the static or dynamic table: indexed (one or two octets);
 * - values that change per request (`:path`, `grpc-timeout`,
 *   `content-length`, trace ids, ...): literal without indexing, with an
 *   indexed name when there is one, so they do not churn the table
 *   (the name lists are in name-policy.ts);
 * - anything else: literal with incremental indexing, so the next block
 *   sends it as an index;
 * - a value sent as a literal without indexing goes raw (it is sent once:
 *   Huffman-coding it cost more CPU per call than its few octets are worth
 *   on a proxy's hops, measured at about 2% of a proxied call); any other
 *   string is Huffman-coded when that is shorter, and a literal name's
 *   encoding is kept (`literalNames`), as a per-call field's name repeats.
 * A change of the peer's SETTINGS_HEADER_TABLE_SIZE is signalled at the
 * start of the next block: the smallest size seen since the last block,
 * then the final one (§4.2).
 */
import { DynamicTable, ENTRY_OVERHEAD } from './dynamic-table.js';
import { huffmanEncodedLength, huffmanEncodeInto } from './huffman.js';
import {
  DEFAULT_NAME_POLICY,
  NAME_POLICIES,
  NEVER_INDEXED_VALUES,
  PATH_VALUES,
  UNINDEXED_VALUES,
  type NamePolicy,
} from './name-policy.js';
import { STATIC_TABLE_LENGTH } from './static-table.js';

const DEFAULT_TABLE_SIZE = 4096;
/** We never keep a larger table than this, whatever the peer allows. */
const MAX_ENCODER_TABLE_SIZE = 64 * 1024;

// First-octet patterns (§6).
const INDEXED = 0x80;
const LITERAL_INCREMENTAL = 0x40;
const LITERAL_WITHOUT_INDEXING = 0x00;
const LITERAL_NEVER_INDEXED = 0x10;
const TABLE_SIZE_UPDATE = 0x20;
const HUFFMAN_FLAG = 0x80;

/** Size of the buffers blocks are sliced from. */
const SLAB_SIZE = 8 * 1024;
/** The first slab is small (from Buffer's pool): many connections send few blocks. */
const FIRST_SLAB_SIZE = 1024;

/**
 * Literal names' §5.2 encodings (length prefix and Huffman code), shared by
 * every encoder: a field sent without indexing and with no name in the
 * static table (`x-request-id`) sends its name as a literal every time.
 * Emptied when full; a name encodes the same on every connection.
 */
const literalNames = new Map<string, Uint8Array>();
const MAX_LITERAL_NAMES = 256;

/** Strings shorter than this are copied char by char instead of Buffer.write. */
const SHORT_STRING = 16;

/**
 * Field positions remembered (see `IndexedFieldCache`), two ways each: a
 * connection alternates kinds of block (a response head, then trailers).
 */
const CACHED_POSITIONS = 16;
const WAYS = 2;

export class HpackEncoder {
  private readonly table: DynamicTable;
  /** name → value → insertion sequence of the newest dynamic entry with both. */
  private readonly fieldSequence = new Map<string, Map<string, number>>();
  /** name → insertion sequence of the newest dynamic entry with that name. */
  private readonly nameSequence = new Map<string, number>();

  /**
   * What the field at each position of recent blocks was sent as, when it
   * was sent as an index: its name and value and the index, valid while
   * the dynamic table is unchanged (`tableVersion`). A connection sends
   * the same kinds of block over and over (a gRPC request head, a response
   * head, trailers), mostly indexed in steady state; a field found here is
   * written from two string comparisons instead of three or four map
   * lookups. Slot = position × WAYS + way.
   */
  private readonly cachedName: (string | undefined)[] = new Array<string | undefined>(
    CACHED_POSITIONS * WAYS,
  ).fill(undefined);
  private readonly cachedValue: string[] = new Array<string>(CACHED_POSITIONS * WAYS).fill('');
  private readonly cachedIndex = new Int32Array(CACHED_POSITIONS * WAYS);
  private readonly cachedVersion = new Float64Array(CACHED_POSITIONS * WAYS).fill(-1);
  /** Per position, the way to replace next (the one not hit or filled last). */
  private readonly nextWay = new Uint8Array(CACHED_POSITIONS);
  /** Changes whenever an entry goes into or out of the dynamic table. */
  private tableVersion = 0;

  private sizeUpdatePending = false;
  private smallestPendingSize = 0;
  private finalPendingSize = 0;

  /**
   * Blocks are written one after another into a slab and returned as
   * slices of it (no copy), like Buffer's own pool: a block keeps its slab
   * alive while referenced.
   */
  private output: Buffer = Buffer.allocUnsafe(FIRST_SLAB_SIZE);
  private blockStart = 0;
  private position = 0;

  constructor(maxTableSize = DEFAULT_TABLE_SIZE) {
    this.table = new DynamicTable(maxTableSize, (name, value, sequence) => {
      this.forget(name, value, sequence);
    });
  }

  /** Current dynamic table size in octets (§4.1). */
  get tableSize(): number {
    return this.table.size;
  }

  /** The peer's SETTINGS_HEADER_TABLE_SIZE; a size update opens the next block. */
  setMaxTableSize(size: number): void {
    const effective = Math.min(size, MAX_ENCODER_TABLE_SIZE);
    this.smallestPendingSize = this.sizeUpdatePending
      ? Math.min(this.smallestPendingSize, effective)
      : effective;
    this.finalPendingSize = effective;
    this.sizeUpdatePending = true;
  }

  /** Encodes `fields` (flat [name, value, ...]) into one header block. */
  encode(fields: readonly string[]): Buffer {
    this.encodeInPlace(fields);
    return this.output.subarray(this.blockStart, this.position);
  }

  /**
   * Encodes `fields` into `blockBuffer[blockFrom, blockTo)`, for a caller
   * that copies the block at once and then calls `rewind()`, which lets the
   * next block reuse the space: no Buffer view, no slab filling up.
   */
  encodeInPlace(fields: readonly string[]): void {
    this.blockStart = this.position;
    if (this.sizeUpdatePending) this.writeSizeUpdates();
    for (let i = 0; i + 1 < fields.length; i += 2) {
      const name = fields[i] ?? '';
      const value = fields[i + 1] ?? '';
      const position = i >> 1;
      if (position >= CACHED_POSITIONS) {
        this.encodeField(name, value);
        continue;
      }
      if (this.writeCached(position, name, value)) continue;
      const index = this.encodeField(name, value);
      if (index !== 0) this.remember(position, name, value, index);
    }
  }

  /** Writes the field as the index cached for its position; false when none is valid. */
  private writeCached(position: number, name: string, value: string): boolean {
    const version = this.tableVersion;
    for (let way = 0; way < WAYS; way++) {
      const slot = position * WAYS + way;
      if (
        this.cachedName[slot] === name &&
        this.cachedValue[slot] === value &&
        this.cachedVersion[slot] === version
      ) {
        this.ensureRoom(4);
        this.writeInteger(INDEXED, 7, this.cachedIndex[slot] ?? 0);
        this.nextWay[position] = WAYS - 1 - way;
        return true;
      }
    }
    return false;
  }

  private remember(position: number, name: string, value: string, index: number): void {
    const way = this.nextWay[position] ?? 0;
    const slot = position * WAYS + way;
    this.cachedName[slot] = name;
    this.cachedValue[slot] = value;
    this.cachedIndex[slot] = index;
    this.cachedVersion[slot] = this.tableVersion;
    this.nextWay[position] = WAYS - 1 - way;
  }

  get blockBuffer(): Buffer {
    return this.output;
  }

  get blockFrom(): number {
    return this.blockStart;
  }

  get blockTo(): number {
    return this.position;
  }

  /** The last block (from encodeInPlace) was copied: its space is free again. */
  rewind(): void {
    this.position = this.blockStart;
  }

  private writeSizeUpdates(): void {
    this.sizeUpdatePending = false;
    const smallest = this.smallestPendingSize;
    const final = this.finalPendingSize;
    this.ensureRoom(12);
    this.tableVersion++;
    if (smallest < final) {
      this.writeInteger(TABLE_SIZE_UPDATE, 5, smallest);
      this.table.setMaxSize(smallest);
    }
    if (smallest < final || final !== this.table.maxSize) {
      this.writeInteger(TABLE_SIZE_UPDATE, 5, final);
      this.table.setMaxSize(final);
    }
  }

  /** Writes one field; returns the index it was sent as, or 0 when sent as a literal. */
  private encodeField(name: string, value: string): number {
    // Worst case: three integers of at most 6 octets plus both strings raw.
    this.ensureRoom(name.length + value.length + 18);
    const policy = NAME_POLICIES.get(name) ?? DEFAULT_NAME_POLICY;
    if (policy.indexing === NEVER_INDEXED_VALUES) {
      this.writeLiteral(LITERAL_NEVER_INDEXED, 4, this.nameIndex(name, policy), name, value, true);
      return 0;
    }
    const staticIndex = policy.staticValues?.get(value);
    if (staticIndex !== undefined) {
      this.writeInteger(INDEXED, 7, staticIndex);
      return staticIndex;
    }
    if (policy.indexing === UNINDEXED_VALUES) {
      // Never put in the table, so not looked up there (a per-call value
      // would be hashed for nothing).
      this.writeLiteral(
        LITERAL_WITHOUT_INDEXING,
        4,
        this.nameIndex(name, policy),
        name,
        value,
        false,
      );
      return 0;
    }
    const sequence = this.fieldSequence.get(name)?.get(value);
    if (sequence !== undefined) {
      const dynamicIndex = this.table.indexOfSequence(sequence);
      if (dynamicIndex !== 0) {
        this.writeInteger(INDEXED, 7, STATIC_TABLE_LENGTH + dynamicIndex);
        return STATIC_TABLE_LENGTH + dynamicIndex;
      }
    }
    const nameIndex = this.nameIndex(name, policy);
    const entrySize = name.length + value.length + ENTRY_OVERHEAD;
    // An entry over half the table would flush most of what is worth keeping.
    if (
      entrySize * 2 > this.table.maxSize ||
      (policy.indexing === PATH_VALUES && value.includes('?'))
    ) {
      this.writeLiteral(LITERAL_WITHOUT_INDEXING, 4, nameIndex, name, value, false);
      return 0;
    }
    this.writeLiteral(LITERAL_INCREMENTAL, 6, nameIndex, name, value, true);
    const newSequence = this.table.insertCount;
    this.tableVersion++;
    if (this.table.add(name, value, entrySize)) this.rememberEntry(name, value, newSequence);
    return 0;
  }

  /** Static index of `name`, else dynamic index of its newest entry, else 0. */
  private nameIndex(name: string, policy: NamePolicy): number {
    if (policy.staticNameIndex !== 0) return policy.staticNameIndex;
    const sequence = this.nameSequence.get(name);
    if (sequence === undefined) return 0;
    const dynamicIndex = this.table.indexOfSequence(sequence);
    return dynamicIndex === 0 ? 0 : STATIC_TABLE_LENGTH + dynamicIndex;
  }

  private rememberEntry(name: string, value: string, sequence: number): void {
    let byValue = this.fieldSequence.get(name);
    if (byValue === undefined) {
      byValue = new Map<string, number>();
      this.fieldSequence.set(name, byValue);
    }
    byValue.set(value, sequence);
    this.nameSequence.set(name, sequence);
  }

  private forget(name: string, value: string, sequence: number): void {
    const byValue = this.fieldSequence.get(name);
    if (byValue?.get(value) === sequence) {
      byValue.delete(value);
      if (byValue.size === 0) this.fieldSequence.delete(name);
    }
    if (this.nameSequence.get(name) === sequence) this.nameSequence.delete(name);
  }

  private writeLiteral(
    pattern: number,
    prefixBits: number,
    nameIndex: number,
    name: string,
    value: string,
    huffmanValue: boolean,
  ): void {
    this.writeInteger(pattern, prefixBits, nameIndex);
    if (nameIndex === 0) this.writeLiteralName(name);
    if (huffmanValue) this.writeString(value);
    else this.writeRawString(value);
  }

  /** A literal name as its kept §5.2 encoding (bounded: names can be the client's). */
  private writeLiteralName(name: string): void {
    let encoded = literalNames.get(name);
    if (encoded === undefined) {
      const start = this.position;
      this.writeString(name);
      // A copy: the slab's bytes are overwritten by later blocks.
      encoded = new Uint8Array(this.output.subarray(start, this.position));
      if (literalNames.size >= MAX_LITERAL_NAMES) literalNames.clear();
      literalNames.set(name, encoded);
      return;
    }
    const output = this.output;
    let at = this.position;
    for (let i = 0; i < encoded.length; i++) output[at++] = encoded[i] ?? 0;
    this.position = at;
  }

  /** §5.2 string literal, Huffman-coded when shorter. */
  private writeString(text: string): void {
    const huffmanLength = huffmanEncodedLength(text);
    if (huffmanLength < text.length) {
      this.writeInteger(HUFFMAN_FLAG, 7, huffmanLength);
      this.position = huffmanEncodeInto(text, this.output, this.position);
      return;
    }
    this.writeRawString(text);
  }

  /** §5.2 string literal, not Huffman-coded. */
  private writeRawString(text: string): void {
    this.writeInteger(0, 7, text.length);
    const output = this.output;
    if (text.length < SHORT_STRING) {
      let at = this.position;
      for (let i = 0; i < text.length; i++) output[at++] = text.charCodeAt(i);
      this.position = at;
    } else {
      this.position += output.write(text, this.position, 'latin1');
    }
  }

  /** §5.1 integer with a `prefixBits`-bit prefix, OR-ed into `pattern`. */
  private writeInteger(pattern: number, prefixBits: number, value: number): void {
    const output = this.output;
    const prefixMax = (1 << prefixBits) - 1;
    if (value < prefixMax) {
      output[this.position++] = pattern | value;
      return;
    }
    output[this.position++] = pattern | prefixMax;
    let rest = value - prefixMax;
    while (rest >= 0x80) {
      output[this.position++] = (rest & 0x7f) | 0x80;
      rest = Math.floor(rest / 0x80);
    }
    output[this.position++] = rest;
  }

  /** Makes room for `octets` more; a new slab gets the block written so far. */
  private ensureRoom(octets: number): void {
    if (this.position + octets <= this.output.length) return;
    const written = this.position - this.blockStart;
    const slab = Buffer.allocUnsafe(Math.max(SLAB_SIZE, 2 * (written + octets)));
    this.output.copy(slab, 0, this.blockStart, this.position);
    this.output = slab;
    this.blockStart = 0;
    this.position = written;
  }
}
