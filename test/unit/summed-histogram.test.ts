// SummedHistogram hands prom-client the per-series state a plain Histogram
// would have built from the same observations: the exposition and the JSON
// the workers aggregate are the same (this also catches a prom-client
// release that changes that internal state).
import { Histogram, Registry } from 'prom-client';
import t from 'tap';
import { SummedHistogram } from '../../src/metrics/summed-histogram.js';

const spec = {
  name: 'h_seconds',
  help: 'A histogram.',
  labelNames: ['a', 'b'] as const,
  buckets: [0.001, 0.01, 0.1, 1, 10],
};

void t.test('same exposition and JSON as a plain Histogram', async (t) => {
  const summedRegistry = new Registry();
  const plainRegistry = new Registry();
  const summed = new SummedHistogram(summedRegistry, { ...spec, labelNames: [...spec.labelNames] });
  const plain = new Histogram({
    ...spec,
    labelNames: [...spec.labelNames],
    buckets: [...spec.buckets],
    registers: [plainRegistry],
  });
  t.equal(await summedRegistry.metrics(), await plainRegistry.metrics(), 'empty');
  const labelSets = [
    { a: 'x', b: 'y' },
    { a: 'x', b: 'z' },
    { a: 'q"uote', b: 'back\\slash\nnewline' },
  ];
  const values = [0, -1, 0.001, 0.0010001, 0.005, 0.1, 0.3, 1, 9.99, 10, 10.5, 1e6, 0.1 + 0.2];
  let seed = 7;
  const random = (): number => (seed = (seed * 16807) % 2147483647) / 2147483647;
  for (let i = 0; i < 2000; i++) {
    const labels = labelSets[Math.floor(random() * labelSets.length)] ?? { a: '', b: '' };
    const value = i % 3 === 0 ? (values[i % values.length] ?? 0) : random() * 20;
    // Keyed by value: a fresh labels object each time, as a caller may pass.
    summed.observe(summed.cell(`${labels.a}\n${labels.b}`, { ...labels }), value);
    plain.observe({ ...labels }, value);
    if (i % 500 === 1) {
      t.equal(await summedRegistry.metrics(), await plainRegistry.metrics(), `after ${i + 1}`);
    }
  }
  t.equal(await summedRegistry.metrics(), await plainRegistry.metrics());
  t.same(await summedRegistry.getMetricsAsJSON(), await plainRegistry.getMetricsAsJSON());
});

void t.test('a non-finite value is dropped, not thrown or summed', async (t) => {
  const registry = new Registry();
  const summed = new SummedHistogram(registry, { ...spec, labelNames: ['a', 'b'] });
  const cell = summed.cell('k', { a: '1', b: '2' });
  summed.observe(cell, Number.NaN);
  summed.observe(cell, Number.POSITIVE_INFINITY);
  summed.observe(cell, 0.5);
  t.equal(cell.count, 1);
  t.equal(cell.sum, 0.5);
  t.match(await registry.metrics(), /h_seconds_count\{a="1",b="2"\} 1/);
});
