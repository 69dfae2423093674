import t from 'tap';
import { MessageSizeGuard } from '../../src/grpc/message-size-guard.js';

function frame(length: number): Buffer {
  const out = Buffer.alloc(5 + length, 0x61);
  out[0] = 0;
  out.writeUInt32BE(length, 1);
  return out;
}

void t.test('messages within the limit pass, in any chunking', (t) => {
  const stream = Buffer.concat([frame(10), frame(0), frame(100), frame(3)]);
  for (const size of [1, 2, 3, 5, 7, 64, stream.length]) {
    const guard = new MessageSizeGuard(100);
    let found: number | undefined;
    for (let i = 0; i < stream.length; i += size) {
      found ??= guard.check(stream.subarray(i, i + size));
    }
    t.equal(found, undefined, `chunks of ${size}`);
  }
  t.end();
});

void t.test('a message over the limit is found, even with its prefix split', (t) => {
  const stream = Buffer.concat([frame(10), frame(101)]);
  for (const size of [1, 2, 3, 4, 6, 16, stream.length]) {
    const guard = new MessageSizeGuard(100);
    let found: number | undefined;
    for (let i = 0; i < stream.length && found === undefined; i += size) {
      found = guard.check(stream.subarray(i, i + size));
    }
    t.equal(found, 101, `chunks of ${size}`);
  }
  t.end();
});

void t.test('a lying 4 GiB prefix is caught from the prefix alone', (t) => {
  const guard = new MessageSizeGuard(1024);
  t.equal(guard.check(Buffer.from([0, 0xff, 0xff, 0xff, 0xff])), 0xffffffff);
  t.end();
});
