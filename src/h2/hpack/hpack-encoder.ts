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
 *   indexed name when there is one, so they do not churn the table;
 * - anything else: literal with incremental indexing, so the next block
 *   sends it as an index;
 * - each string Huffman-coded only when that is shorter.
 * A change of the peer's SETTINGS_HEADER_TABLE_SIZE is signalled at the
 * start of the next block: the smallest size seen since the last block,
 * then the final one (§4.2).
 */
import { DynamicTable, ENTRY_OVERHEAD } from './dynamic-table.js';
import { huffmanEncodedLength, huffmanEncodeInto } from './huffman.js';
import { STATIC_FIELD_INDEX, STATIC_NAME_INDEX, STATIC_TABLE_LENGTH } from './static-table.js';

const DEFAULT_TABLE_SIZE = 4096;
/** We never keep a larger table than this, whatever the peer allows. */
const MAX_ENCODER_TABLE_SIZE = 64 * 1024;

/** Sent as never-indexed literals (§7.1.3). */
const NEVER_INDEXED_NAMES: ReadonlySet<string> = new Set([
  'authorization',
  'proxy-authorization',
  'cookie',
  'set-cookie',
]);

/** Values that rarely repeat: literal without indexing (name still indexed). */
const UNINDEXED_NAMES: ReadonlySet<string> = new Set([
  ':path',
  'grpc-timeout',
  'content-length',
  'grpc-message',
  'grpc-status-details-bin',
  'grpc-trace-bin',
  'traceparent',
  'tracestate',
  'x-request-id',
  'x-b3-traceid',
  'x-b3-spanid',
  'x-b3-parentspanid',
  'x-cloud-trace-context',
  'etag',
  'if-none-match',
  'if-modified-since',
  'last-modified',
  'content-range',
  'range',
  'age',
  'expires',
]);

// First-octet patterns (§6).
const INDEXED = 0x80;
const LITERAL_INCREMENTAL = 0x40;
const LITERAL_WITHOUT_INDEXING = 0x00;
const LITERAL_NEVER_INDEXED = 0x10;
const TABLE_SIZE_UPDATE = 0x20;
const HUFFMAN_FLAG = 0x80;

/** Strings shorter than this are copied char by char instead of Buffer.write. */
const SHORT_STRING = 16;

export class HpackEncoder {
  private readonly table: DynamicTable;
  /** name → value → insertion sequence of the newest dynamic entry with both. */
  private readonly fieldSequence = new Map<string, Map<string, number>>();
  /** name → insertion sequence of the newest dynamic entry with that name. */
  private readonly nameSequence = new Map<string, number>();

  private sizeUpdatePending = false;
  private smallestPendingSize = 0;
  private finalPendingSize = 0;

  private output: Buffer = Buffer.allocUnsafe(1024);
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
    this.position = 0;
    if (this.sizeUpdatePending) this.writeSizeUpdates();
    for (let i = 0; i + 1 < fields.length; i += 2) {
      this.encodeField(fields[i] ?? '', fields[i + 1] ?? '');
    }
    const block = Buffer.allocUnsafe(this.position);
    this.output.copy(block, 0, 0, this.position);
    return block;
  }

  private writeSizeUpdates(): void {
    this.sizeUpdatePending = false;
    const smallest = this.smallestPendingSize;
    const final = this.finalPendingSize;
    this.ensureRoom(12);
    if (smallest < final) {
      this.writeInteger(TABLE_SIZE_UPDATE, 5, smallest);
      this.table.setMaxSize(smallest);
    }
    if (smallest < final || final !== this.table.maxSize) {
      this.writeInteger(TABLE_SIZE_UPDATE, 5, final);
      this.table.setMaxSize(final);
    }
  }

  private encodeField(name: string, value: string): void {
    // Worst case: three integers of at most 6 octets plus both strings raw.
    this.ensureRoom(name.length + value.length + 18);
    if (NEVER_INDEXED_NAMES.has(name)) {
      this.writeLiteral(LITERAL_NEVER_INDEXED, 4, this.nameIndex(name), name, value);
      return;
    }
    const staticIndex = STATIC_FIELD_INDEX.get(name)?.get(value);
    if (staticIndex !== undefined) {
      this.writeInteger(INDEXED, 7, staticIndex);
      return;
    }
    const sequence = this.fieldSequence.get(name)?.get(value);
    if (sequence !== undefined) {
      const dynamicIndex = this.table.indexOfSequence(sequence);
      if (dynamicIndex !== 0) {
        this.writeInteger(INDEXED, 7, STATIC_TABLE_LENGTH + dynamicIndex);
        return;
      }
    }
    const nameIndex = this.nameIndex(name);
    const entrySize = name.length + value.length + ENTRY_OVERHEAD;
    // An entry over half the table would flush most of what is worth keeping.
    if (UNINDEXED_NAMES.has(name) || entrySize * 2 > this.table.maxSize) {
      this.writeLiteral(LITERAL_WITHOUT_INDEXING, 4, nameIndex, name, value);
      return;
    }
    this.writeLiteral(LITERAL_INCREMENTAL, 6, nameIndex, name, value);
    const newSequence = this.table.insertCount;
    if (this.table.add(name, value, entrySize)) this.remember(name, value, newSequence);
  }

  /** Static index of `name`, else dynamic index of its newest entry, else 0. */
  private nameIndex(name: string): number {
    const staticIndex = STATIC_NAME_INDEX.get(name);
    if (staticIndex !== undefined) return staticIndex;
    const sequence = this.nameSequence.get(name);
    if (sequence === undefined) return 0;
    const dynamicIndex = this.table.indexOfSequence(sequence);
    return dynamicIndex === 0 ? 0 : STATIC_TABLE_LENGTH + dynamicIndex;
  }

  private remember(name: string, value: string, sequence: number): void {
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
  ): void {
    this.writeInteger(pattern, prefixBits, nameIndex);
    if (nameIndex === 0) this.writeString(name);
    this.writeString(value);
  }

  /** §5.2 string literal, Huffman-coded when shorter. */
  private writeString(text: string): void {
    const huffmanLength = huffmanEncodedLength(text);
    if (huffmanLength < text.length) {
      this.writeInteger(HUFFMAN_FLAG, 7, huffmanLength);
      this.position = huffmanEncodeInto(text, this.output, this.position);
      return;
    }
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

  private ensureRoom(octets: number): void {
    const needed = this.position + octets;
    if (needed <= this.output.length) return;
    const grown = Buffer.allocUnsafe(Math.max(needed, this.output.length * 2));
    this.output.copy(grown, 0, 0, this.position);
    this.output = grown;
  }
}
