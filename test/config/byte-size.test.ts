import t from 'tap';
import { parseByteSize } from '../../src/config/byte-size.js';

void t.test('valid byte sizes', (t) => {
  const cases: [string, number][] = [
    ['0', 0],
    ['512', 512],
    ['512B', 512],
    ['10KB', 10_000],
    ['10kB', 10_000],
    ['1MB', 1_000_000],
    ['2GB', 2_000_000_000],
    ['64KiB', 65_536],
    ['16MiB', 16_777_216],
    ['1GiB', 1_073_741_824],
  ];
  for (const [text, bytes] of cases) t.equal(parseByteSize(text), bytes, text);
  t.end();
});

void t.test('invalid byte sizes', (t) => {
  const cases = [
    '',
    'KiB',
    '1.5MiB',
    '-1',
    '+1',
    '16 MiB',
    ' 16MiB',
    '16mib',
    '16K',
    '16Ki',
    '16kb',
    '1TB',
    '0x10',
    '99999999999999999999GiB',
  ];
  for (const text of cases) t.equal(parseByteSize(text), undefined, JSON.stringify(text));
  t.end();
});
