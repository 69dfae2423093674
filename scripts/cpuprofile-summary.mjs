#!/usr/bin/env node
/**
 * Summarises a V8 .cpuprofile (node --cpu-prof, e.g. from
 * BENCH_PROXY_NODE_FLAGS="--cpu-prof --cpu-prof-dir=/tmp/prof" npm run bench):
 * self time by function and by file, as shares of the busy (non-idle) time.
 * Only 500 ms slices at least HOT busy (default 0.3) and past SKIP seconds
 * (default 3: startup) count, so a bench proxy's idle rounds and its module
 * loading stay out. SERIES=1 prints each slice's busy share; INCL=<text>
 * adds inclusive time of the functions whose file matches <text>.
 *
 *   node scripts/cpuprofile-summary.mjs CPU.*.cpuprofile [topN]
 */
import { readFileSync } from 'node:fs';
import console from 'node:console';
import process from 'node:process';

const [file, topArg] = process.argv.slice(2);
if (file === undefined) {
  console.error('usage: node scripts/cpuprofile-summary.mjs FILE.cpuprofile [topN]');
  process.exit(2);
}
const top = Number(topArg ?? 40);
const hotShare = Number(process.env.HOT ?? 0.3);
const skipSeconds = Number(process.env.SKIP ?? 3);
const profile = JSON.parse(readFileSync(file, 'utf8'));
const byId = new Map(profile.nodes.map((n) => [n.id, n]));
const idleIds = new Set(
  profile.nodes.filter((n) => n.callFrame.functionName === '(idle)').map((n) => n.id),
);
const { samples, timeDeltas } = profile;
const SLICE_US = 500_000;

const slices = [];
let t = 0;
for (let i = 0; i < samples.length; i++) {
  t += timeDeltas[i] ?? 0;
  const s = (slices[Math.floor(t / SLICE_US)] ??= { busy: 0, all: 0 });
  s.all += timeDeltas[i] ?? 0;
  if (!idleIds.has(samples[i])) s.busy += timeDeltas[i] ?? 0;
}
const hot = new Set();
slices.forEach((s, i) => {
  if (s !== undefined && s.busy / s.all >= hotShare && (i * SLICE_US) / 1e6 >= skipSeconds)
    hot.add(i);
});
if (process.env.SERIES) {
  console.log(
    slices.map((s, i) => `${i / 2}s:${s ? Math.round((100 * s.busy) / s.all) : 0}%`).join(' '),
  );
}

const self = new Map();
t = 0;
for (let i = 0; i < samples.length; i++) {
  t += timeDeltas[i] ?? 0;
  if (!hot.has(Math.floor(t / SLICE_US)) || idleIds.has(samples[i])) continue;
  self.set(samples[i], (self.get(samples[i]) ?? 0) + (timeDeltas[i] ?? 0));
}

const short = (url) => url.replace(/^file:\/\/.*?\/(dist|node_modules)\//, '$1/');
const fnKey = (cf) =>
  `${cf.functionName || '(anonymous)'}  ${short(cf.url).split('/').slice(-2).join('/')}:${cf.lineNumber + 1}`;
let busy = 0;
const byFn = new Map();
const byFile = new Map();
for (const [id, us] of self) {
  const cf = byId.get(id).callFrame;
  busy += us;
  byFn.set(fnKey(cf), (byFn.get(fnKey(cf)) ?? 0) + us);
  const fileKey = cf.url === '' ? `(${cf.functionName})` : short(cf.url);
  byFile.set(fileKey, (byFile.get(fileKey) ?? 0) + us);
}
console.log(`busy ${(busy / 1e6).toFixed(2)} s in ${hot.size} hot slices; shares of busy time`);
const show = (map, title) => {
  console.log(`\n== ${title}`);
  for (const [k, us] of [...map].sort((a, b) => b[1] - a[1]).slice(0, top)) {
    console.log(`${((100 * us) / busy).toFixed(1).padStart(5)}%  ${k}`);
  }
};
show(byFn, 'self time by function');
show(byFile, 'self time by file');

if (process.env.INCL) {
  const parent = new Map();
  for (const n of profile.nodes) for (const c of n.children ?? []) parent.set(c, n.id);
  const inclusive = new Map();
  for (const [id, us] of self) {
    const seen = new Set();
    for (let cur = id; cur !== undefined; cur = parent.get(cur)) {
      const cf = byId.get(cur).callFrame;
      if (!cf.url.includes(process.env.INCL)) continue;
      const k = fnKey(cf);
      if (seen.has(k)) continue;
      seen.add(k);
      inclusive.set(k, (inclusive.get(k) ?? 0) + us);
    }
  }
  show(inclusive, `inclusive time, files matching ${process.env.INCL}`);
}
