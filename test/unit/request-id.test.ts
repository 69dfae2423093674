// Generated request ids parse as UUIDv4, never repeat within a process, and
// differ from one process to the next in their random part.
import t from 'tap';
import { RequestIds } from '../../src/proxy/request-id.js';

const UUID_V4 = /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;
const MULTIPLIER = 0x9e37797f4a7dn;
const MOD_48 = 1n << 48n;

void t.test('ids are UUIDv4-shaped and unique', (t) => {
  const ids = new RequestIds();
  const seen = new Set<string>();
  for (let i = 0; i < 100_000; i++) {
    const id = ids.next();
    if (!UUID_V4.test(id)) t.fail(`not a UUIDv4: ${id}`);
    seen.add(id);
  }
  t.equal(seen.size, 100_000);
  t.end();
});

void t.test('the last group is the call count times an odd constant, modulo 2^48', (t) => {
  const seed = '12345678-9abc-4def-8123-456789abcdef';
  for (const first of [0n, (1n << 24n) - 500n, 123_456_789_012n, (1n << 53n) - 1001n]) {
    const ids = new RequestIds(seed, Number(first));
    for (let n = first; n < first + 1000n; n++) {
      const expected = ((n * MULTIPLIER) % MOD_48).toString(16).padStart(12, '0');
      const id = ids.next();
      if (id !== `12345678-9abc-4def-8123-${expected}`) {
        t.fail(`id ${n}: ${id}, expected suffix ${expected}`);
        break;
      }
    }
  }
  t.pass('1000 ids from each starting count match the exact product');
  t.end();
});

void t.test('each process (instance) has its own random prefix', (t) => {
  const a = new RequestIds().next();
  const b = new RequestIds().next();
  t.not(a.slice(0, 24), b.slice(0, 24));
  t.end();
});
