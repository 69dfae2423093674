/**
 * latin1String: one char per octet, for every octet value, on both of its
 * paths (short strings built in JavaScript, long ones sliced natively).
 */
import t from 'tap';
import { latin1String } from '../../../src/h2/hpack/latin1.js';

void t.test('every octet, short and long strings, at offsets', (t) => {
  const bytes = Buffer.from(Array.from({ length: 256 }, (_, octet) => octet));
  for (const length of [0, 1, 7, 8, 9, 40, 256]) {
    for (const start of [0, 3]) {
      const end = Math.min(start + length, bytes.length);
      t.equal(latin1String(bytes, start, end), bytes.toString('latin1', start, end));
    }
  }
  t.equal(latin1String(Buffer.from('caf\u00e9', 'latin1'), 0, 4), 'caf\u00e9');
  t.end();
});
