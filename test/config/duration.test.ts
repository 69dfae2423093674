import t from 'tap';
import { parseDuration } from '../../src/config/duration.js';

void t.test('valid durations, in milliseconds', (t) => {
  const cases: [string, number][] = [
    ['0s', 0],
    ['250ms', 250],
    ['5s', 5_000],
    ['1m', 60_000],
    ['1h', 3_600_000],
    ['1m30s', 90_000],
    ['1h2m3s4ms', 3_723_004],
    ['1.5ms', 1.5],
    ['250us', 0.25],
    ['1.1s', 1_100],
    ['0.5h', 1_800_000],
    ['2s500ms', 2_500],
  ];
  for (const [text, ms] of cases) t.equal(parseDuration(text), ms, text);
  t.end();
});

void t.test('invalid durations', (t) => {
  const cases = [
    '',
    '5',
    '0',
    's',
    '5 s',
    ' 5s',
    '5s ',
    '-5s',
    '+5s',
    '5S',
    '5sec',
    '5d',
    '.5s',
    '5.s',
    '1m30',
    '5ns',
    '1e3ms',
    '99999999999999h',
  ];
  for (const text of cases) t.equal(parseDuration(text), undefined, JSON.stringify(text));
  t.end();
});
