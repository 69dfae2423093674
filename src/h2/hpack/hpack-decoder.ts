/**
 * HpackDecoder: one connection's HPACK decoding context (RFC 7541 §3, §6).
 * Turns complete header blocks into flat [name, value, ...] string arrays
 * (latin1: one char per octet) and keeps the dynamic table in step with the
 * peer's encoder. Every malformed input throws HpackError, which the
 * connection turns into COMPRESSION_ERROR.
 *
 * Header list size (RFC 9113 §6.5.2) is enforced while decoding: a string
 * is only turned into a JS string when it fits in what is left of the limit
 * (or must go into the dynamic table, whose size is bounded by us), so a
 * block that references a large entry many times, or carries huge literals,
 * cannot make us allocate past the limit. Past the limit the decoder keeps
 * decoding (the dynamic table must stay in sync) but stops appending fields
 * and sets `oversize`.
 */
import { DynamicTable, ENTRY_OVERHEAD } from './dynamic-table.js';
import { HpackError } from './hpack-error.js';
import { huffmanDecodeInto, huffmanMaxDecodedLength } from './huffman.js';
import { latin1String } from './latin1.js';
import { cachedLiteral, cacheLiteral } from './literal-cache.js';
import { STATIC_TABLE_LENGTH, staticName, staticValue } from './static-table.js';

/** RFC 9113 §6.5.2 default SETTINGS_HEADER_TABLE_SIZE. */
const DEFAULT_TABLE_SIZE = 4096;
/** Integers above this are rejected (no field, index or size is ever this large). */
const MAX_INTEGER = 2 ** 32;
/** Continuation octets after the prefix: 5 × 7 bits already exceed 32 bits. */
const MAX_CONTINUATION_SHIFT = 28;

const EMPTY_BLOCK = Buffer.alloc(0);

export class HpackDecoder {
  private readonly table: DynamicTable;
  /** Our SETTINGS_HEADER_TABLE_SIZE: the most a size update may ask for. */
  private tableSizeLimit: number;
  private headerListSizeLimit: number;
  /** We lowered the limit below the table's size: the next block must start with a size update. */
  private sizeUpdateRequired = false;
  private blockOversize = false;

  // Per-block state, fields so the hot path allocates nothing.
  private block: Buffer = EMPTY_BLOCK;
  private position = 0;
  /** Where the block being decoded ends in `block` (a frame's range of a socket read). */
  private blockEnd = 0;
  private listSize = 0;
  /** Decoded length of the last string read (also when it was not materialised). */
  private lastStringLength = 0;
  private scratch: Buffer = Buffer.allocUnsafe(256);

  constructor(maxTableSize = DEFAULT_TABLE_SIZE, maxHeaderListSize = Infinity) {
    this.table = new DynamicTable(maxTableSize);
    this.tableSizeLimit = maxTableSize;
    this.headerListSizeLimit = maxHeaderListSize;
  }

  /** The last decode() went past maxHeaderListSize (its `out` is incomplete). */
  get oversize(): boolean {
    return this.blockOversize;
  }

  /** Current dynamic table size in octets (§4.1). */
  get tableSize(): number {
    return this.table.size;
  }

  /** Current dynamic table maximum (the peer's last size update, or the initial size). */
  get tableMaxSize(): number {
    return this.table.maxSize;
  }

  /**
   * Our SETTINGS_HEADER_TABLE_SIZE (call when the peer acknowledged it):
   * the most a size update may ask for. Lowering it below the table's
   * current maximum requires a size update at the start of the next block
   * (§4.2), else that block fails.
   */
  setMaxTableSize(size: number): void {
    this.tableSizeLimit = size;
    if (this.table.maxSize > size) this.sizeUpdateRequired = true;
  }

  get maxHeaderListSize(): number {
    return this.headerListSizeLimit;
  }

  setMaxHeaderListSize(size: number): void {
    this.headerListSizeLimit = size;
  }

  /**
   * Decodes one complete header block (HEADERS + CONTINUATIONs joined).
   * Appends fields to `out` and returns it. Throws HpackError on malformed
   * input. Over maxHeaderListSize: stops appending, decodes the rest, and
   * sets `oversize` for this block.
   */
  decode(block: Uint8Array, out: string[] = []): string[] {
    const buffer = Buffer.isBuffer(block)
      ? block
      : Buffer.from(block.buffer, block.byteOffset, block.byteLength);
    return this.decodeRange(buffer, 0, buffer.length, out);
  }

  /** `decode` of the block `buffer[start, end)`, without a view made of it. */
  decodeRange(buffer: Buffer, start: number, end: number, out: string[] = []): string[] {
    this.block = buffer;
    this.position = start;
    this.blockEnd = end;
    this.listSize = 0;
    this.blockOversize = false;
    try {
      this.decodeFields(out);
    } finally {
      this.block = EMPTY_BLOCK;
      this.blockEnd = 0;
    }
    return out;
  }

  private decodeFields(out: string[]): void {
    const block = this.block;
    const end = this.blockEnd;
    let atBlockStart = true;
    while (this.position < end) {
      const first = block[this.position] ?? 0;
      if ((first & 0xe0) === 0x20) {
        // §6.3 Dynamic Table Size Update
        if (!atBlockStart) {
          throw new HpackError('dynamic table size update after the start of the header block');
        }
        const size = this.readInteger(5);
        if (size > this.tableSizeLimit) {
          throw new HpackError(
            `dynamic table size update to ${size} exceeds the limit ${this.tableSizeLimit}`,
          );
        }
        this.table.setMaxSize(size);
        this.sizeUpdateRequired = false;
        continue;
      }
      if (this.sizeUpdateRequired) {
        throw new HpackError('header block does not start with the required table size update');
      }
      atBlockStart = false;
      if ((first & 0x80) !== 0) {
        // §6.1 Indexed Header Field
        const index = this.readInteger(7);
        const name = this.nameAt(index);
        const value = this.valueAt(index);
        this.appendField(name, value, name.length + value.length + ENTRY_OVERHEAD, out);
      } else if ((first & 0x40) !== 0) {
        // §6.2.1 Literal with Incremental Indexing
        this.decodeLiteral(6, true, out);
      } else {
        // §6.2.2 without indexing (0000xxxx), §6.2.3 never indexed (0001xxxx)
        this.decodeLiteral(4, false, out);
      }
    }
  }

  private decodeLiteral(prefixBits: number, addToTable: boolean, out: string[]): void {
    const nameIndex = this.readInteger(prefixBits);
    // Octets of name + value we may turn into strings: what the list limit
    // leaves, or what the dynamic table can hold when the field goes there.
    const listRoom = this.blockOversize
      ? 0
      : this.headerListSizeLimit - this.listSize - ENTRY_OVERHEAD;
    const tableRoom = addToTable ? this.table.maxSize - ENTRY_OVERHEAD : 0;
    const room = Math.max(listRoom, tableRoom, 0);
    let name: string;
    let nameLength: number;
    if (nameIndex === 0) {
      name = this.readString(room);
      nameLength = this.lastStringLength;
    } else {
      name = this.nameAt(nameIndex);
      nameLength = name.length;
    }
    const value = this.readString(room - nameLength);
    const size = nameLength + this.lastStringLength + ENTRY_OVERHEAD;
    // Both strings are materialised whenever the field fits the table or the list.
    if (addToTable) this.table.add(name, value, size);
    this.appendField(name, value, size, out);
  }

  private appendField(name: string, value: string, size: number, out: string[]): void {
    if (this.blockOversize) return;
    this.listSize += size;
    if (this.listSize > this.headerListSizeLimit) {
      this.blockOversize = true;
      return;
    }
    out.push(name, value);
  }

  /**
   * Reads a string literal (§5.2). Returns it when its decoded length fits
   * in `room` octets, else '' (without allocating it); either way the
   * decoded length is left in lastStringLength.
   */
  private readString(room: number): string {
    const block = this.block;
    if (this.position >= this.blockEnd) {
      throw new HpackError('header block truncated in a string');
    }
    const huffman = ((block[this.position] ?? 0) & 0x80) !== 0;
    const length = this.readInteger(7);
    const start = this.position;
    const end = start + length;
    if (end > this.blockEnd) throw new HpackError('string literal runs past the header block');
    this.position = end;
    const cached = cachedLiteral(block, start, length, huffman);
    if (cached !== undefined) {
      this.lastStringLength = cached.length;
      return cached.length <= room ? cached : '';
    }
    if (!huffman) {
      this.lastStringLength = length;
      if (length > room) return '';
      const text = latin1String(block, start, end);
      cacheLiteral(block, start, length, false, text);
      return text;
    }
    const writable = Math.max(0, Math.min(room, huffmanMaxDecodedLength(length)));
    if (this.scratch.length < writable) {
      this.scratch = Buffer.allocUnsafe(Math.max(writable, this.scratch.length * 2));
    }
    const decodedLength = huffmanDecodeInto(block, start, end, this.scratch, writable);
    this.lastStringLength = decodedLength;
    if (decodedLength > writable) return '';
    const text = latin1String(this.scratch, 0, decodedLength);
    cacheLiteral(block, start, length, true, text);
    return text;
  }

  /** §5.1 integer with a `prefixBits`-bit prefix at the current position. */
  private readInteger(prefixBits: number): number {
    const block = this.block;
    const prefixMax = (1 << prefixBits) - 1;
    let value = (block[this.position++] ?? 0) & prefixMax;
    if (value < prefixMax) return value;
    let shift = 0;
    for (;;) {
      if (this.position >= this.blockEnd)
        throw new HpackError('header block truncated in an integer');
      const octet = block[this.position++] ?? 0;
      value += (octet & 0x7f) * 2 ** shift;
      if (value > MAX_INTEGER) throw new HpackError('integer overflow in header block');
      if ((octet & 0x80) === 0) return value;
      shift += 7;
      if (shift > MAX_CONTINUATION_SHIFT) {
        throw new HpackError('integer encoding too long in header block');
      }
    }
  }

  private nameAt(index: number): string {
    if (index <= STATIC_TABLE_LENGTH) {
      if (index === 0) throw new HpackError('header field index 0');
      return staticName(index);
    }
    return this.table.name(this.dynamicIndex(index));
  }

  private valueAt(index: number): string {
    if (index <= STATIC_TABLE_LENGTH) return staticValue(index);
    return this.table.value(this.dynamicIndex(index));
  }

  private dynamicIndex(index: number): number {
    const dynamic = index - STATIC_TABLE_LENGTH;
    if (dynamic > this.table.length) {
      throw new HpackError(`header field index ${index} is out of range`);
    }
    return dynamic;
  }
}
