// The bench's pure helpers for --workers: /proc/PID/stat parsing and the
// process-tree CPU sum, the count lists, the proxy's CPU list, and the
// per-worker call counts read from /metrics.
import t from 'tap';
import { parseStat, processTree, treeTicks } from '../../bench/process-tree-cpu.js';
import { instances, parseCountList, proxyCpuList } from '../../bench/worker-counts.js';
import { formatSpread, parseWorkerCalls, spread } from '../../bench/worker-spread.js';

const stat = (pid: number, comm: string, ppid: number, times: readonly number[]): string =>
  `${pid} (${comm}) S ${ppid} ${pid} ${pid} 0 -1 4194560 100 0 0 0 ${times.join(' ')} 20 0 11 0 1 1 1`;

void t.test('parseStat: ppid and utime+stime+cutime+cstime, any command name', (t) => {
  t.same(parseStat(stat(42, 'node', 7, [10, 5, 3, 2])), { pid: 42, ppid: 7, ticks: 20 });
  t.same(parseStat(stat(43, 'a (b) c', 42, [1, 1, 0, 0])), { pid: 43, ppid: 42, ticks: 2 });
  t.equal(parseStat('garbage'), undefined);
  t.equal(parseStat(''), undefined);
  t.end();
});

void t.test('treeTicks sums the root and all its descendants, nothing else', (t) => {
  const stats = [
    { pid: 1, ppid: 0, ticks: 1000 },
    { pid: 10, ppid: 1, ticks: 100 }, // the primary
    { pid: 11, ppid: 10, ticks: 40 }, // worker 1
    { pid: 12, ppid: 10, ticks: 60 }, // worker 2
    { pid: 13, ppid: 12, ticks: 5 }, // a grandchild
    { pid: 20, ppid: 1, ticks: 999 }, // h2load: not in the tree
  ];
  t.equal(treeTicks(stats, 10), 205);
  t.equal(treeTicks(stats, 11), 40);
  t.equal(treeTicks(stats, 99), 0);
  t.same(
    processTree(stats, 10).map((s) => s.pid),
    [10, 11, 12, 13],
  );
  t.end();
});

void t.test('parseCountList', (t) => {
  t.same(parseCountList('1,2'), [1, 2]);
  t.same(parseCountList(' 50 , 2 ,50'), [50, 2]);
  t.type(parseCountList('0'), 'string');
  t.type(parseCountList('1,x'), 'string');
  t.type(parseCountList('1,'), 'string');
  t.type(parseCountList('1.5'), 'string');
  t.end();
});

void t.test('instances: Switchyard targets once per worker count, labelled when compared', (t) => {
  t.same(
    instances(['direct', 'switchyard'], [1]).map((i) => i.label),
    ['direct', 'switchyard'],
  );
  t.same(
    instances(['direct', 'nodejs-min', 'haproxy'], [1, 2]).map((i) => [i.label, i.workers]),
    [
      ['direct', undefined],
      ['nodejs-min ×1w', 1],
      ['nodejs-min ×2w', 2],
      ['haproxy', undefined],
    ],
  );
  t.end();
});

void t.test('proxyCpuList keeps off the load CPU while it can', (t) => {
  t.equal(proxyCpuList(1, 2, 0, 1), '0');
  t.equal(proxyCpuList(2, 2, 0, 1), '0,1');
  t.equal(proxyCpuList(4, 2, 0, 1), '0,1');
  t.equal(proxyCpuList(2, 4, 0, 1), '0,2');
  t.equal(proxyCpuList(3, 4, 0, 1), '0,2,3');
  t.equal(proxyCpuList(4, 4, 0, 1), '0,1,2,3');
  t.end();
});

void t.test('per-worker calls from /metrics text', (t) => {
  const text = [
    '# HELP switchyard_worker_calls_started_total Calls each worker started',
    '# TYPE switchyard_worker_calls_started_total counter',
    'switchyard_worker_calls_started_total{worker="2"} 300',
    'switchyard_worker_calls_started_total{worker="1"} 100',
    'grpc_server_started_total{grpc_service="x"} 400',
  ].join('\n');
  const after = parseWorkerCalls(text);
  t.same(
    [...after],
    [
      ['2', 300],
      ['1', 100],
    ],
  );
  const shares = spread(new Map([['1', 50]]), after);
  t.same(shares, [
    { worker: '1', calls: 50, share: 50 / 350 },
    { worker: '2', calls: 300, share: 300 / 350 },
  ]);
  t.equal(formatSpread(shares), '14/86 %');
  t.equal(formatSpread(shares.slice(0, 1)), undefined);
  t.equal(parseWorkerCalls('up 1').size, 0);
  t.end();
});
