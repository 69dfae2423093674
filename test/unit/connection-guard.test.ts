import t from 'tap';
import { connectionLimits, TokenBucket } from '../../src/listener/connection-guard.js';

void t.test('TokenBucket: a burst of 2 × rate, then the rate', (t) => {
  let now = 0;
  const bucket = new TokenBucket(100, () => now);
  let taken = 0;
  while (bucket.take()) taken++;
  t.equal(taken, 200, 'a full bucket holds 2 s worth');
  now += 50; // 5 tokens back
  taken = 0;
  while (bucket.take()) taken++;
  t.equal(taken, 5, 'refilled at 100 per second');
  now += 60_000;
  taken = 0;
  while (bucket.take()) taken++;
  t.equal(taken, 200, 'never more than the burst');
  t.end();
});

void t.test('connectionLimits: defaults, and 0s turns the timers off', (t) => {
  t.same(connectionLimits(undefined), {
    maxResetsPerSecond: 100,
    maxPingsPerSecond: 100,
    idleTimeoutMs: 3_600_000,
    handshakeTimeoutMs: 10_000,
    maxConnections: 10_000,
  });
  const off = connectionLimits({ idle_timeout: '0s', handshake_timeout: '0s' });
  t.equal(off.idleTimeoutMs, 0);
  t.equal(off.handshakeTimeoutMs, 0);
  t.end();
});
