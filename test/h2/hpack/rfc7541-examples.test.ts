/**
 * RFC 7541 Appendix C, byte for byte: every example decodes to the listed
 * header list and leaves the listed dynamic table (entries and size); the
 * encoder produces the same bytes wherever its choices are the RFC's
 * (C.4, C.6.1), and elsewhere its output decodes back to the same list.
 */
import t, { type Test } from 'tap';
import { HpackDecoder } from '../../../src/h2/hpack/hpack-decoder.js';
import { HpackEncoder } from '../../../src/h2/hpack/hpack-encoder.js';
import { dynamicEntries, flat, hex } from './hpack-helpers.js';

interface Example {
  readonly section: string;
  readonly block: string;
  readonly fields: readonly (readonly [string, string])[];
  /** Dynamic table after the block, newest first. */
  readonly table: readonly (readonly [string, string])[];
  readonly tableSize: number;
  /** Our encoder writes exactly `block` (same representation choices). */
  readonly encoderMatches: boolean;
}

const REQUEST_1: readonly (readonly [string, string])[] = [
  [':method', 'GET'],
  [':scheme', 'http'],
  [':path', '/'],
  [':authority', 'www.example.com'],
];
const REQUEST_2 = [...REQUEST_1, ['cache-control', 'no-cache']] as const;
const REQUEST_3: readonly (readonly [string, string])[] = [
  [':method', 'GET'],
  [':scheme', 'https'],
  [':path', '/index.html'],
  [':authority', 'www.example.com'],
  ['custom-key', 'custom-value'],
];
const TABLE_1 = [[':authority', 'www.example.com']] as const;
const TABLE_2 = [['cache-control', 'no-cache'], ...TABLE_1] as const;
const TABLE_3 = [['custom-key', 'custom-value'], ...TABLE_2] as const;

const DATE_1 = 'Mon, 21 Oct 2013 20:13:21 GMT';
const DATE_2 = 'Mon, 21 Oct 2013 20:13:22 GMT';
const LOCATION = 'https://www.example.com';
const COOKIE = 'foo=ASDJKHQKBZXOQWEOPIUAXQWEOIU; max-age=3600; version=1';
const RESPONSE_1: readonly (readonly [string, string])[] = [
  [':status', '302'],
  ['cache-control', 'private'],
  ['date', DATE_1],
  ['location', LOCATION],
];
const RESPONSE_2: readonly (readonly [string, string])[] = [
  [':status', '307'],
  ['cache-control', 'private'],
  ['date', DATE_1],
  ['location', LOCATION],
];
const RESPONSE_3: readonly (readonly [string, string])[] = [
  [':status', '200'],
  ['cache-control', 'private'],
  ['date', DATE_2],
  ['location', LOCATION],
  ['content-encoding', 'gzip'],
  ['set-cookie', COOKIE],
];
const RESPONSE_TABLE_1: readonly (readonly [string, string])[] = [
  ['location', LOCATION],
  ['date', DATE_1],
  ['cache-control', 'private'],
  [':status', '302'],
];
const RESPONSE_TABLE_2: readonly (readonly [string, string])[] = [
  [':status', '307'],
  ['location', LOCATION],
  ['date', DATE_1],
  ['cache-control', 'private'],
];
const RESPONSE_TABLE_3: readonly (readonly [string, string])[] = [
  ['set-cookie', COOKIE],
  ['content-encoding', 'gzip'],
  ['date', DATE_2],
];

const REQUESTS_RAW: readonly Example[] = [
  {
    section: 'C.3.1',
    block: '8286 8441 0f77 7777 2e65 7861 6d70 6c65 2e63 6f6d',
    fields: REQUEST_1,
    table: TABLE_1,
    tableSize: 57,
    encoderMatches: false,
  },
  {
    section: 'C.3.2',
    block: '8286 84be 5808 6e6f 2d63 6163 6865',
    fields: REQUEST_2,
    table: TABLE_2,
    tableSize: 110,
    encoderMatches: false,
  },
  {
    section: 'C.3.3',
    block: `8287 85bf 400a 6375 7374 6f6d 2d6b 6579
            0c63 7573 746f 6d2d 7661 6c75 65`,
    fields: REQUEST_3,
    table: TABLE_3,
    tableSize: 164,
    encoderMatches: false,
  },
];

const REQUESTS_HUFFMAN: readonly Example[] = [
  {
    section: 'C.4.1',
    block: '8286 8441 8cf1 e3c2 e5f2 3a6b a0ab 90f4 ff',
    fields: REQUEST_1,
    table: TABLE_1,
    tableSize: 57,
    encoderMatches: true,
  },
  {
    section: 'C.4.2',
    block: '8286 84be 5886 a8eb 1064 9cbf',
    fields: REQUEST_2,
    table: TABLE_2,
    tableSize: 110,
    encoderMatches: true,
  },
  {
    section: 'C.4.3',
    block: '8287 85bf 4088 25a8 49e9 5ba9 7d7f 8925 a849 e95b b8e8 b4bf',
    fields: REQUEST_3,
    table: TABLE_3,
    tableSize: 164,
    encoderMatches: true,
  },
];

const RESPONSES_RAW: readonly Example[] = [
  {
    section: 'C.5.1',
    block: `4803 3330 3258 0770 7269 7661 7465 611d
            4d6f 6e2c 2032 3120 4f63 7420 3230 3133
            2032 303a 3133 3a32 3120 474d 546e 1768
            7474 7073 3a2f 2f77 7777 2e65 7861 6d70
            6c65 2e63 6f6d`,
    fields: RESPONSE_1,
    table: RESPONSE_TABLE_1,
    tableSize: 222,
    encoderMatches: false,
  },
  {
    section: 'C.5.2',
    block: '4803 3330 37c1 c0bf',
    fields: RESPONSE_2,
    table: RESPONSE_TABLE_2,
    tableSize: 222,
    // Our encoder also writes "307" raw: its Huffman code is not shorter.
    encoderMatches: false,
  },
  {
    section: 'C.5.3',
    block: `88c1 611d 4d6f 6e2c 2032 3120 4f63 7420
            3230 3133 2032 303a 3133 3a32 3220 474d
            54c0 5a04 677a 6970 7738 666f 6f3d 4153
            444a 4b48 514b 425a 584f 5157 454f 5049
            5541 5851 5745 4f49 553b 206d 6178 2d61
            6765 3d33 3630 303b 2076 6572 7369 6f6e
            3d31`,
    fields: RESPONSE_3,
    table: RESPONSE_TABLE_3,
    tableSize: 215,
    encoderMatches: false,
  },
];

const RESPONSES_HUFFMAN: readonly Example[] = [
  {
    section: 'C.6.1',
    block: `4882 6402 5885 aec3 771a 4b61 96d0 7abe
            9410 54d4 44a8 2005 9504 0b81 66e0 82a6
            2d1b ff6e 919d 29ad 1718 63c7 8f0b 97c8
            e9ae 82ae 43d3`,
    fields: RESPONSE_1,
    table: RESPONSE_TABLE_1,
    tableSize: 222,
    encoderMatches: true,
  },
  {
    section: 'C.6.2',
    block: '4883 640e ffc1 c0bf',
    fields: RESPONSE_2,
    table: RESPONSE_TABLE_2,
    tableSize: 222,
    // Same length Huffman or raw: the RFC picks Huffman, we pick raw.
    encoderMatches: false,
  },
  {
    section: 'C.6.3',
    block: `88c1 6196 d07a be94 1054 d444 a820 0595
            040b 8166 e084 a62d 1bff c05a 839b d9ab
            77ad 94e7 821d d7f2 e6c7 b335 dfdf cd5b
            3960 d5af 2708 7f36 72c1 ab27 0fb5 291f
            9587 3160 65c0 03ed 4ee5 b106 3d50 07`,
    fields: RESPONSE_3,
    table: RESPONSE_TABLE_3,
    tableSize: 215,
    // The RFC indexes set-cookie; we send it never-indexed (§7.1.3).
    encoderMatches: false,
  },
];

/** One connection's worth of examples, decoded (and encoded) in order on one context. */
function checkSequence(
  t: Test,
  title: string,
  examples: readonly Example[],
  tableSize: number,
): void {
  void t.test(title, (t) => {
    const decoder = new HpackDecoder(tableSize);
    const encoder = new HpackEncoder(tableSize);
    const roundTrip = new HpackDecoder(tableSize);
    for (const example of examples) {
      const fields = flat(example.fields);
      t.same(decoder.decode(hex(example.block)), fields, `${example.section} decodes`);
      t.equal(decoder.tableSize, example.tableSize, `${example.section} table size`);
      t.same(dynamicEntries(decoder), flat(example.table), `${example.section} table entries`);

      const encoded = encoder.encode(fields);
      if (example.encoderMatches) {
        t.equal(
          encoded.toString('hex'),
          hex(example.block).toString('hex'),
          `${example.section} encodes`,
        );
      }
      t.same(roundTrip.decode(encoded), fields, `${example.section} round trip`);
    }
    t.end();
  });
}

void t.test('C.1.2: 1337 with a 5-bit prefix (as a table size update)', (t) => {
  const decoder = new HpackDecoder(4096);
  t.same(decoder.decode(hex('3f9a 0a')), []);
  t.equal(decoder.tableMaxSize, 1337);
  const encoder = new HpackEncoder();
  encoder.setMaxTableSize(1337);
  t.equal(encoder.encode([]).toString('hex'), '3f9a0a');
  t.end();
});

void t.test('C.2.1: literal with indexing, literal name', (t) => {
  const decoder = new HpackDecoder();
  const block = hex('400a 6375 7374 6f6d 2d6b 6579 0d63 7573 746f 6d2d 6865 6164 6572');
  t.same(decoder.decode(block), ['custom-key', 'custom-header']);
  t.equal(decoder.tableSize, 55);
  t.same(dynamicEntries(decoder), ['custom-key', 'custom-header']);
  // Our encoder also indexes it, literal name (Huffman-coded).
  const encoded = new HpackEncoder().encode(['custom-key', 'custom-header']);
  t.equal(encoded[0], 0x40);
  t.same(new HpackDecoder().decode(encoded), ['custom-key', 'custom-header']);
  t.end();
});

void t.test('C.2.2: literal without indexing, indexed name', (t) => {
  const decoder = new HpackDecoder();
  const block = hex('040c 2f73 616d 706c 652f 7061 7468');
  t.same(decoder.decode(block), [':path', '/sample/path']);
  t.equal(decoder.tableSize, 0);
  t.same(dynamicEntries(decoder), []);
  // Our encoder sends a :path with a query without indexing, name index 4
  // (value Huffman-coded); one without a query it indexes (encoder.test.ts).
  const encoded = new HpackEncoder().encode([':path', '/sample/path?x=1']);
  t.equal(encoded[0], 0x04);
  t.same(new HpackDecoder().decode(encoded), [':path', '/sample/path?x=1']);
  t.end();
});

void t.test('C.2.3: literal never indexed, literal name', (t) => {
  const decoder = new HpackDecoder();
  const block = hex('1008 7061 7373 776f 7264 0673 6563 7265 74');
  t.same(decoder.decode(block), ['password', 'secret']);
  t.equal(decoder.tableSize, 0);
  t.same(dynamicEntries(decoder), []);
  t.end();
});

void t.test('C.2.4: indexed field', (t) => {
  const decoder = new HpackDecoder();
  t.same(decoder.decode(hex('82')), [':method', 'GET']);
  t.equal(decoder.tableSize, 0);
  t.equal(new HpackEncoder().encode([':method', 'GET']).toString('hex'), '82');
  t.end();
});

checkSequence(t, 'C.3: requests without Huffman', REQUESTS_RAW, 4096);
checkSequence(t, 'C.4: requests with Huffman', REQUESTS_HUFFMAN, 4096);
checkSequence(t, 'C.5: responses without Huffman, 256-octet table', RESPONSES_RAW, 256);
checkSequence(t, 'C.6: responses with Huffman, 256-octet table', RESPONSES_HUFFMAN, 256);
