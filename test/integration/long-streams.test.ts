/**
 * Long streams live until they end: no default route timeout, and the
 * upstream idle timeout only closes connections that carry no stream.
 * The idle period below is the thing under test, not a synchronisation:
 * it is set longer than every timer that could cut the stream (the idle
 * timeout is shortened to 200 ms so the test stays short).
 */
import t from 'tap';
import { nextReply } from '../helpers/echo-client.js';
import { proxiedEcho } from '../helpers/harness.js';

const IDLE_MS = 1500;

void t.test('an idle bidi stream stays open past every proxy timer', async (t) => {
  const { client } = await proxiedEcho(t, ['b1'], { cluster: { idle_timeout: '200ms' } });
  const call = client.bidi();
  call.write({ message: 'before' });
  t.equal((await nextReply(call)).message, 'before');
  await new Promise((resolve) => setTimeout(resolve, IDLE_MS));
  call.write({ message: 'after an idle stretch' });
  t.equal((await nextReply(call)).message, 'after an idle stretch');
  const ended = new Promise<void>((resolve, reject) => {
    call.on('end', resolve);
    call.on('error', reject);
  });
  call.end();
  call.resume();
  await ended;
});
