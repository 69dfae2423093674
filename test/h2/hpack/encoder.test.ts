/**
 * HpackEncoder's representation choices: static and dynamic exact matches
 * become indices, credentials and cookies go out never-indexed, high-churn
 * values are not indexed (and go raw), oversized entries are not indexed,
 * Huffman only when shorter, and table size updates (smallest, then final)
 * open the next block and evict from the encoder's own table.
 */
import t from 'tap';
import { HpackDecoder } from '../../../src/h2/hpack/hpack-decoder.js';
import { HpackEncoder } from '../../../src/h2/hpack/hpack-encoder.js';

const GRPC_REQUEST = [
  ':method',
  'POST',
  ':scheme',
  'http',
  ':path',
  '/pkg.Service/Method',
  ':authority',
  'backend:50051',
  'content-type',
  'application/grpc',
  'te',
  'trailers',
  'user-agent',
  'grpc-node-js/1.14.0',
  'grpc-timeout',
  '999m',
  'grpc-accept-encoding',
  'identity,deflate,gzip',
];

void t.test('static exact matches are one octet', (t) => {
  const encoder = new HpackEncoder();
  t.equal(
    encoder.encode([':method', 'POST', ':scheme', 'http', ':status', '200']).toString('hex'),
    '838688',
  );
  t.equal(encoder.tableSize, 0);
  t.end();
});

void t.test('repeated fields become dynamic indices', (t) => {
  const encoder = new HpackEncoder();
  const decoder = new HpackDecoder();
  const first = encoder.encode(GRPC_REQUEST);
  const second = encoder.encode(GRPC_REQUEST);
  t.same(decoder.decode(first), GRPC_REQUEST);
  t.same(decoder.decode(second), GRPC_REQUEST);
  t.ok(second.length < first.length / 2, `${second.length} octets after ${first.length}`);
  t.equal(encoder.tableSize, decoder.tableSize);
  t.end();
});

void t.test('credentials and cookies are never indexed', (t) => {
  const encoder = new HpackEncoder();
  for (const name of ['authorization', 'proxy-authorization', 'cookie', 'set-cookie']) {
    for (let round = 0; round < 2; round++) {
      const block = encoder.encode([name, 'secret-value']);
      t.equal((block[0] ?? 0) & 0xf0, 0x10, `${name} never-indexed`);
      t.same(new HpackDecoder().decode(block), [name, 'secret-value']);
    }
  }
  t.equal(encoder.tableSize, 0);
  t.equal(
    encoder.encode(['authorization', 'x']).subarray(0, 2).toString('hex'),
    '1f08',
    'static name 23',
  );
  t.end();
});

void t.test('high-churn values are literals without indexing, with an indexed name', (t) => {
  const encoder = new HpackEncoder();
  for (const [name, value] of [
    [':path', '/search?q=switchyard'],
    ['grpc-timeout', '999m'],
    ['content-length', '1234'],
  ] as const) {
    const block = encoder.encode([name, value]);
    t.equal((block[0] ?? 0) & 0xf0, 0x00, `${name} without indexing`);
    t.same(new HpackDecoder().decode(block), [name, value]);
  }
  t.equal(encoder.tableSize, 0);
  t.equal(
    encoder.encode(['content-length', '0'])[0],
    0x0f,
    'content-length is static 28 = 15 + 13',
  );
  t.end();
});

void t.test(
  'a path without a query (a gRPC method) is indexed: the next call sends one octet',
  (t) => {
    const encoder = new HpackEncoder();
    const first = encoder.encode([':path', '/pkg.Service/Method']);
    t.equal((first[0] ?? 0) & 0xc0, 0x40, 'literal with incremental indexing');
    t.equal(first[0], 0x40 | 4, 'name = static 4 (:path)');
    const again = encoder.encode([':path', '/pkg.Service/Method']);
    t.same([...again], [0x80 | 62], 'indexed: dynamic 62');
    const decoder = new HpackDecoder();
    t.same(decoder.decode(first), [':path', '/pkg.Service/Method']);
    t.same(decoder.decode(again), [':path', '/pkg.Service/Method']);
    t.end();
  },
);

void t.test('a name already indexed is reused for other values', (t) => {
  const encoder = new HpackEncoder();
  encoder.encode(['x-tenant', 'a']);
  const block = encoder.encode(['x-tenant', 'b']);
  t.equal(block[0], 0x40 | 62, 'literal with incremental indexing, name = dynamic 62');
  t.end();
});

void t.test('entries over half the table are not indexed', (t) => {
  const encoder = new HpackEncoder(256);
  const value = 'v'.repeat(120);
  const block = encoder.encode(['x-big', value]);
  t.equal(block[0], 0x00);
  t.equal(encoder.tableSize, 0);
  const decoder = new HpackDecoder(256);
  t.same(decoder.decode(block), ['x-big', value]);
  t.end();
});

void t.test('Huffman only when shorter', (t) => {
  const encoder = new HpackEncoder();
  // "x-a" and "307" are 3 octets Huffman-coded too: sent raw.
  t.equal(encoder.encode(['x-a', '307']).toString('hex'), '4003782d6103333037');
  // "www.example.com": 12 octets instead of 15.
  t.equal(
    encoder.encode([':authority', 'www.example.com']).toString('hex'),
    '418cf1e3c2e5f23a6ba0ab90f4ff',
  );
  t.end();
});

void t.test('a value sent without indexing goes raw; a literal name the same each time', (t) => {
  const encoder = new HpackEncoder();
  const id = '4f1c9a52-0b7e-4d21-8a6f-3c2d1e0f9a8b';
  // "x-request-id" has no static name: a literal name, Huffman-coded (9
  // octets, 0x89 …), then the value raw: 0x24 (36 octets, no H bit).
  const first = encoder.encode(['x-request-id', id]);
  t.equal(first.subarray(0, 2).toString('hex'), '0089', 'without indexing, Huffman name');
  t.equal(first.subarray(11).toString('latin1'), '\x24' + id, 'value raw');
  const second = encoder.encode(['x-request-id', id]);
  t.same([...second], [...first], 'the kept name encoding, the same octets');
  // grpc-timeout is not in the static table either: a literal name too.
  const timeout = encoder.encode(['grpc-timeout', '4999m']);
  t.equal(timeout.subarray(-6).toString('latin1'), '\x054999m', 'raw timeout value');
  t.equal(encoder.tableSize, 0);
  t.same(new HpackDecoder().decode(Buffer.concat([first, timeout])), [
    'x-request-id',
    id,
    'grpc-timeout',
    '4999m',
  ]);
  t.end();
});

void t.test('table size updates open the next block', (t) => {
  const encoder = new HpackEncoder();
  encoder.encode(['x-a', 'b']);
  t.ok(encoder.tableSize > 0);
  encoder.setMaxTableSize(0);
  encoder.setMaxTableSize(1000);
  const block = encoder.encode([':method', 'GET']);
  t.equal(block.toString('hex'), '20' + '3fc907' + '82', 'smallest (0), then final (1000)');
  t.equal(encoder.tableSize, 0, 'the update to 0 evicted everything');

  encoder.setMaxTableSize(2048);
  t.equal(encoder.encode([]).toString('hex'), '3fe10f', 'one update when only raised');
  t.equal(encoder.encode([]).toString('hex'), '', 'once');

  encoder.setMaxTableSize(4096);
  encoder.setMaxTableSize(2048);
  t.equal(encoder.encode([]).toString('hex'), '', 'no update when back where it was');

  encoder.setMaxTableSize(1 << 20);
  t.equal(encoder.encode([]).toString('hex'), '3fe1ff03', 'the table is capped at 64 KiB');
  t.end();
});

void t.test('encoder and decoder agree across evictions', (t) => {
  const encoder = new HpackEncoder(256);
  const decoder = new HpackDecoder(256);
  for (let i = 0; i < 200; i++) {
    const fields = ['x-key-' + String(i % 7), 'value-' + String(i % 11), 'x-fixed', 'same'];
    t.same(decoder.decode(encoder.encode(fields)), fields);
    t.equal(encoder.tableSize, decoder.tableSize);
  }
  t.end();
});

void t.test('blocks stay valid while later blocks fill new slabs', (t) => {
  const encoder = new HpackEncoder();
  const inputs: string[][] = [];
  const blocks: Buffer[] = [];
  for (let i = 0; i < 500; i++) {
    const fields = [':path', `/svc/M${String(i)}`, 'x-pad', 'p'.repeat(i * 7), 'x-n', String(i)];
    inputs.push(fields);
    blocks.push(encoder.encode(fields));
  }
  const huge = ['x-huge', 'h'.repeat(20_000)];
  inputs.push(huge);
  blocks.push(encoder.encode(huge));
  const decoder = new HpackDecoder();
  for (let i = 0; i < blocks.length; i++) {
    t.same(decoder.decode(blocks[i] ?? Buffer.alloc(0)), inputs[i], `block ${String(i)}`);
  }
  t.end();
});
