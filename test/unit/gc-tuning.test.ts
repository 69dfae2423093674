// The proxy turns V8's incremental marking off (src/app/gc-tuning.ts)
// unless the process's own node flags choose it, or SWITCHYARD_V8_GC=default.
import { execFileSync } from 'node:child_process';
import t from 'tap';
import { shouldDisableIncrementalMarking } from '../../src/app/gc-tuning.js';

void t.test('off by default; left alone when the node flags choose', (t) => {
  t.equal(shouldDisableIncrementalMarking([], {}), true);
  t.equal(shouldDisableIncrementalMarking(['--enable-source-maps'], {}), true);
  t.equal(shouldDisableIncrementalMarking(['--incremental-marking'], {}), false);
  t.equal(shouldDisableIncrementalMarking(['--no-incremental-marking'], {}), false);
  t.equal(shouldDisableIncrementalMarking(['--no-incremental_marking'], {}), false);
  t.equal(
    shouldDisableIncrementalMarking([], {
      NODE_OPTIONS: '--max-old-space-size=512 --incremental-marking',
    }),
    false,
  );
  t.equal(
    shouldDisableIncrementalMarking([], { NODE_OPTIONS: '--incremental-marking-hard-trigger=10' }),
    true,
  );
  t.equal(shouldDisableIncrementalMarking([], { SWITCHYARD_V8_GC: 'default' }), false);
  t.end();
});

void t.test('the setting reaches V8 at run time', (t) => {
  // V8 has no getter for its flags, so the observable is the collector's
  // own trace: a process that tunes itself as the proxy does and then
  // allocates never starts an incremental marking cycle (without the
  // tuning, the same loop prints "[IncrementalMarking] Start" lines).
  const script = [
    "import('" + new URL('../../src/app/gc-tuning.js', import.meta.url).href + "')",
    '.then((m) => { m.tuneGarbageCollector();',
    "const v8 = require('node:v8'); v8.setFlagsFromString('--trace-incremental-marking');",
    'const keep = []; for (let i = 0; i < 3e6; i++) { keep.push({ i, s: "x" + i }); if (keep.length > 1e6) keep.length = 0; }',
    '})',
  ].join('');
  const out = execFileSync(process.execPath, ['-e', script], { encoding: 'utf8' });
  t.notMatch(out, /\[IncrementalMarking\] Start/, 'no incremental marking cycle started');
  t.end();
});
