// Traffic splitting in the config: `clusters:` with weights instead of `cluster:`.
import t from 'tap';
import { issues } from '../helpers/config-lines.js';

/** A valid config with one route `split` whose cluster lines are `routeLines`; clusters v1, v2. */
const withRoute = (...routeLines: string[]): string[] => [
  'listeners:', //                  1
  '  - name: public', //            2
  '    address: 0.0.0.0:8080', //   3
  'routes:', //                     4
  '  - name: split', //             5
  '    match: {}', //               6
  ...routeLines, //                 7..
  'clusters:',
  '  - name: v1',
  '    endpoints: [10.0.0.7:50051]',
  '  - name: v2',
  '    endpoints: [10.0.0.8:50051]',
];

const split9010 = [
  '    clusters:',
  '      - { name: v1, weight: 90 }',
  '      - { name: v2, weight: 10 }',
];

void t.test('a weighted split loads, in flow or block style', (t) => {
  t.same(issues(withRoute(...split9010)), []);
  t.same(
    issues(
      withRoute(
        '    clusters:',
        '      - name: v1',
        '        weight: 9000',
        '      - name: v2',
        '        weight: 1000',
      ),
    ),
    [],
  );
  t.same(issues(withRoute('    clusters:', '      - { name: v2, weight: 1 }')), [], 'one entry');
  t.same(issues(withRoute('    cluster: v1')), [], 'a single cluster still works');
  t.end();
});

void t.test('exactly one of cluster and clusters', (t) => {
  t.same(issues(withRoute()), [
    'config.yaml:5:5 routes[0]: route "split" needs cluster or clusters',
  ]);
  t.same(issues(withRoute('    cluster: v1', ...split9010)), [
    'config.yaml:8:5 routes[0].clusters: route "split" has both cluster and clusters; keep one',
  ]);
  t.same(
    issues(withRoute('    clustr: v1')),
    ['config.yaml:7:5 routes[0].clustr: unknown key "clustr" (did you mean "cluster"?)'],
    'a misspelt cluster key is reported once, not also as "needs cluster or clusters"',
  );
  t.end();
});

void t.test('weights are integers from 1 to 10000', (t) => {
  const weight = (value: string): string[] =>
    issues(withRoute('    clusters:', `      - { name: v1, weight: ${value} }`));
  t.same(weight('0'), [
    'config.yaml:8:29 routes[0].clusters[0].weight: must be at least 1: a weight of 0 is not allowed; to send a cluster no calls, remove its entry',
  ]);
  t.same(weight('10001'), ['config.yaml:8:29 routes[0].clusters[0].weight: must be at most 10000']);
  t.same(weight('1.5'), [
    'config.yaml:8:29 routes[0].clusters[0].weight: expected integer, got number 1.5',
  ]);
  t.same(weight('10000'), []);
  t.same(issues(withRoute('    clusters:', '      - { name: v1 }')), [
    'config.yaml:8:9 routes[0].clusters[0]: missing required key "weight"',
  ]);
  t.same(issues(withRoute('    clusters:', '      - { name: v1, weight: 1, wieght: 2 }')), [
    'config.yaml:8:32 routes[0].clusters[0].wieght: unknown key "wieght" (did you mean "weight"?)',
  ]);
  t.end();
});

void t.test('the list is not empty, and names each cluster once', (t) => {
  t.same(issues(withRoute('    clusters: []')), [
    'config.yaml:7:15 routes[0].clusters: must list at least 1 item',
  ]);
  t.same(
    issues(
      withRoute(
        '    clusters:',
        '      - { name: v1, weight: 1 }',
        '      - { name: v1, weight: 2 }',
      ),
    ),
    [
      'config.yaml:9:17 routes[0].clusters[1].name: duplicate cluster "v1" in route "split" (first at line 8)',
    ],
  );
  t.end();
});

void t.test('every cluster in a split must exist', (t) => {
  t.same(
    issues(
      withRoute(
        '    clusters:',
        '      - { name: v1, weight: 1 }',
        '      - { name: v3, weight: 2 }',
      ),
    ),
    ['config.yaml:9:17 routes[0].clusters[1].name: unknown cluster "v3"; clusters are: v1, v2'],
  );
  t.same(
    issues([
      ...withRoute('    clusters:', '      - { name: v3, weight: 1 }'),
      '  - endpoints: [10.0.0.9:50051]',
    ]),
    ['config.yaml:14:5 clusters[2]: missing required key "name"'],
    'not reported while a cluster has no name: it may be the one meant',
  );
  t.end();
});
