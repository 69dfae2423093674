// Outlier detection's state machine and sink with an injected clock: counting,
// ejection lengths, max_ejection_percent, the half-open probe, the verdicts.
import t from 'tap';
import { HealthFlags } from '../../src/health/health-flags.js';
import {
  OutlierDetector,
  type OutlierCluster,
  type OutlierTarget,
} from '../../src/health/outlier-detector.js';
import { outlierSettings, type OutlierSettings } from '../../src/health/outlier-settings.js';
import type { OutlierState } from '../../src/health/outlier-state.js';
import { outlierVerdict } from '../../src/health/outlier-verdict.js';
import { GrpcStatus } from '../../src/grpc/status.js';
import { createLoadBalancer } from '../../src/lb/registry.js';
import type { CallOutcome } from '../../src/outcome/call-outcome.js';
import { ManualClock } from '../helpers/manual-clock.js';

/** A stand-in endpoint with the same `available` rule as Endpoint. */
class FakeTarget implements OutlierTarget {
  readonly health = new HealthFlags();
  #state: OutlierState | undefined;
  constructor(readonly address: string) {}
  get outlierState(): OutlierState | undefined {
    return this.#state;
  }
  attachOutlierState(state: OutlierState): void {
    this.#state = state;
  }
  get available(): boolean {
    return this.health.available && (this.#state?.admits ?? true);
  }
  readonly inFlight = 0;
  get draining(): boolean {
    return this.health.has('draining');
  }
  /** The balancer admitted a call here. */
  start(): void {
    this.#state?.callStarted();
  }
}

const SECOND = 1000;

function nth(endpoints: readonly FakeTarget[], index: number): FakeTarget {
  const endpoint = endpoints[index];
  if (endpoint === undefined) throw new Error(`no endpoint ${index}`);
  return endpoint;
}

function setup(
  count: number,
  overrides: Parameters<typeof outlierSettings>[0] = {},
): {
  clock: ManualClock;
  detector: OutlierDetector;
  endpoints: FakeTarget[];
  settings: OutlierSettings;
} {
  const clock = new ManualClock();
  const endpoints = Array.from(
    { length: count },
    (_, i) => new FakeTarget(`10.0.0.${i + 1}:50051`),
  );
  const cluster: OutlierCluster = { name: 'c', endpoints };
  const settings = outlierSettings(overrides);
  const detector = new OutlierDetector([{ cluster, settings }], { clock });
  return { clock, detector, endpoints, settings };
}

function fail(detector: OutlierDetector, endpoint: FakeTarget, times = 1): void {
  for (let i = 0; i < times; i++) {
    endpoint.start();
    detector.recordVerdict('c', endpoint, 'failure');
  }
}

function succeed(detector: OutlierDetector, endpoint: FakeTarget): void {
  endpoint.start();
  detector.recordVerdict('c', endpoint, 'success');
}

void t.test('defaults: 5 failures, 30s base, 300s max, 50%, four failure codes', (t) => {
  const s = outlierSettings({});
  t.equal(s.consecutiveFailures, 5);
  t.equal(s.baseEjectionMs, 30 * SECOND);
  t.equal(s.maxEjectionMs, 300 * SECOND);
  t.equal(s.maxEjectionPercent, 50);
  t.same(
    [...s.failureCodes].sort((a, b) => a - b),
    [GrpcStatus.UNKNOWN, GrpcStatus.INTERNAL, GrpcStatus.UNAVAILABLE, GrpcStatus.DATA_LOSS],
  );
  t.notOk(s.failureCodes.has(GrpcStatus.DEADLINE_EXCEEDED), 'deadline-exceeded is not a failure');
  t.end();
});

void t.test('ejected after exactly consecutive_failures failures, only the outlier flag', (t) => {
  const { detector, endpoints } = setup(2, { consecutive_failures: 3 });
  const e = nth(endpoints, 0);
  fail(detector, e, 2);
  t.ok(e.available, 'two failures: still in rotation');
  t.equal(e.outlierState?.view.consecutive_failures, 2);
  fail(detector, e);
  t.notOk(e.available, 'third failure ejects');
  t.same(e.health.sources(), ['outlier']);
  t.equal(e.outlierState?.view.times_ejected, 1);
  t.ok(nth(endpoints, 1).available, 'the other endpoint is untouched');
  t.end();
});

void t.test('a success resets the count', (t) => {
  const { detector, endpoints } = setup(2, { consecutive_failures: 3 });
  const e = nth(endpoints, 0);
  fail(detector, e, 2);
  succeed(detector, e);
  t.equal(e.outlierState?.view.consecutive_failures, 0);
  fail(detector, e, 2);
  t.ok(e.available, '2 + success + 2 failures is not 3 in a row');
  fail(detector, e);
  t.notOk(e.available);
  t.end();
});

void t.test('neutral verdicts neither count nor reset', (t) => {
  const { detector, endpoints } = setup(2, { consecutive_failures: 2 });
  const e = nth(endpoints, 0);
  fail(detector, e);
  detector.recordVerdict('c', e, 'neutral');
  t.equal(e.outlierState?.view.consecutive_failures, 1);
  fail(detector, e);
  t.notOk(e.available);
  t.end();
});

void t.test('ejection lasts base × times ejected, capped at max; then half-open', (t) => {
  const { clock, detector, endpoints } = setup(2, {
    consecutive_failures: 1,
    base_ejection_time: '10s',
    max_ejection_time: '25s',
  });
  const e = nth(endpoints, 0);
  fail(detector, e);
  t.equal(e.outlierState?.view.ejected_until, new Date(clock.now() + 10 * SECOND).toISOString());
  clock.advance(10 * SECOND - 1);
  t.notOk(e.available, 'still ejected 1 ms before the end');
  clock.advance(1);
  t.ok(e.available, 'half-open after 10s');
  t.same(e.outlierState?.view, {
    consecutive_failures: 1,
    times_ejected: 1,
    ejected_until: null,
    half_open: true,
  });
  fail(detector, e); // the probe fails
  t.equal(e.outlierState?.view.times_ejected, 2);
  clock.advance(20 * SECOND - 1);
  t.notOk(e.available, 'second ejection is twice as long');
  clock.advance(1);
  t.ok(e.available);
  fail(detector, e);
  clock.advance(25 * SECOND - 1);
  t.notOk(e.available, 'third would be 30s: capped at 25s');
  clock.advance(1);
  t.ok(e.available);
  t.end();
});

void t.test('half-open admits exactly one probe; a successful probe returns it', (t) => {
  const { clock, detector, endpoints } = setup(2, { consecutive_failures: 2 });
  const e = nth(endpoints, 0);
  fail(detector, e, 2);
  clock.advance(30 * SECOND);
  t.ok(e.available, 'half-open: one call may go');
  e.start();
  t.notOk(e.available, 'probe in flight: no second call');
  t.same(e.health.sources(), [], 'without touching any health flag');
  detector.recordVerdict('c', e, 'success');
  t.ok(e.available);
  t.same(e.outlierState?.view, {
    consecutive_failures: 0,
    times_ejected: 1,
    ejected_until: null,
    half_open: false,
  });
  e.start();
  e.start();
  t.ok(e.available, 'back in rotation: calls are not gated');
  t.end();
});

void t.test('a failed probe re-ejects for longer', (t) => {
  const { clock, detector, endpoints } = setup(2, { consecutive_failures: 5 });
  const e = nth(endpoints, 0);
  fail(detector, e, 5);
  clock.advance(30 * SECOND);
  fail(detector, e); // one failure is enough for a probe
  t.notOk(e.available);
  t.equal(e.outlierState?.view.times_ejected, 2);
  clock.advance(59 * SECOND);
  t.notOk(e.available, '60s the second time');
  clock.advance(SECOND);
  t.ok(e.available);
  t.end();
});

void t.test(
  'a probe ending neutral (deadline, cancel) or abandoned lets the next call probe',
  (t) => {
    const { clock, detector, endpoints } = setup(2, { consecutive_failures: 1 });
    const e = nth(endpoints, 0);
    fail(detector, e);
    clock.advance(30 * SECOND);
    e.start();
    t.notOk(e.available);
    detector.recordVerdict('c', e, 'neutral');
    t.ok(e.available, 'neutral probe: another may go');
    e.start();
    e.outlierState?.attemptAbandoned();
    t.ok(e.available, 'abandoned probe: another may go');
    t.equal(e.outlierState?.view.half_open, true);
    t.end();
  },
);

void t.test('max_ejection_percent 50 with 4 endpoints all failing: at most 2 ejected', (t) => {
  const { clock, detector, endpoints } = setup(4, { consecutive_failures: 1 });
  for (const e of endpoints) fail(detector, e, 3);
  t.same(
    endpoints.map((e) => e.available),
    [false, false, true, true],
  );
  clock.advance(30 * SECOND);
  t.same(
    endpoints.map((e) => e.outlierState?.view.half_open),
    [true, true, false, false],
    'half-open endpoints keep their slots',
  );
  fail(detector, nth(endpoints, 2));
  t.ok(nth(endpoints, 2).available, 'still no room while the first two are half-open');
  succeed(detector, nth(endpoints, 0));
  fail(detector, nth(endpoints, 2));
  t.notOk(nth(endpoints, 2).available, 'a slot freed up');
  t.end();
});

void t.test('rounded down, but one endpoint may always be ejected', (t) => {
  const one = setup(1, { consecutive_failures: 1 });
  fail(one.detector, nth(one.endpoints, 0));
  t.notOk(nth(one.endpoints, 0).available, 'a lone endpoint may be ejected');
  const three = setup(3, { consecutive_failures: 1, max_ejection_percent: 50 });
  for (const e of three.endpoints) fail(three.detector, e);
  t.same(
    three.endpoints.map((e) => e.available),
    [false, true, true],
    '50% of 3 rounds down to 1',
  );
  const zero = setup(3, { consecutive_failures: 1, max_ejection_percent: 0 });
  for (const e of zero.endpoints) fail(zero.detector, e);
  t.equal(zero.endpoints.filter((e) => !e.available).length, 1, 'even at 0%');
  t.end();
});

void t.test('close() cancels ejection timers and ignores later outcomes', (t) => {
  const { clock, detector, endpoints } = setup(2, { consecutive_failures: 1 });
  fail(detector, nth(endpoints, 0));
  t.equal(clock.pendingTimers, 1);
  detector.close();
  t.equal(clock.pendingTimers, 0);
  fail(detector, nth(endpoints, 1));
  t.ok(nth(endpoints, 1).available);
  t.end();
});

function outcome(fields: Partial<CallOutcome>): CallOutcome {
  return {
    requestId: 'r',
    listener: 'l',
    method: 'POST',
    path: '/p',
    authority: 'a',
    grpc: true,
    route: 'r',
    grpcRoute: true,
    cluster: 'c',
    endpoint: '10.0.0.1:50051',
    endpointRef: undefined,
    source: 'upstream',
    grpcStatus: 0,
    httpStatus: 200,
    error: undefined,
    errorMessage: undefined,
    durationMs: 1,
    bytesIn: 0,
    bytesOut: 0,
    attempts: 1,
    retries: 0,
    earlierAttempts: [],
    messagesIn: 0,
    messagesOut: 0,
    ...fields,
  };
}

void t.test('verdicts: the status the client saw, upstream errors, neutral causes', (t) => {
  const codes = outlierSettings({}).failureCodes;
  t.equal(outlierVerdict(outcome({ grpcStatus: GrpcStatus.OK }), codes), 'success');
  t.equal(outlierVerdict(outcome({ grpcStatus: GrpcStatus.NOT_FOUND }), codes), 'success');
  t.equal(outlierVerdict(outcome({ grpcStatus: GrpcStatus.INTERNAL }), codes), 'failure');
  t.equal(
    outlierVerdict(outcome({ grpcStatus: GrpcStatus.DEADLINE_EXCEEDED }), codes),
    'success',
    'a backend DEADLINE_EXCEEDED is not a failure by default',
  );
  for (const error of [
    'upstream_connect_failed',
    'upstream_connection_lost',
    'upstream_reset',
    'upstream_refused_stream',
  ] as const) {
    t.equal(
      outlierVerdict(
        outcome({ source: 'local', error, grpcStatus: GrpcStatus.UNAVAILABLE }),
        codes,
      ),
      'failure',
      error,
    );
  }
  t.equal(
    outlierVerdict(
      outcome({
        source: 'local',
        error: 'deadline_exceeded',
        grpcStatus: GrpcStatus.DEADLINE_EXCEEDED,
      }),
      codes,
    ),
    'neutral',
  );
  t.equal(
    outlierVerdict(
      outcome({
        source: 'cancelled',
        error: 'downstream_cancelled',
        grpcStatus: GrpcStatus.CANCELLED,
      }),
      codes,
    ),
    'neutral',
  );
  t.equal(
    outlierVerdict(
      outcome({ grpcStatus: GrpcStatus.NOT_FOUND }),
      outlierSettings({ failure_codes: ['not-found'] }).failureCodes,
    ),
    'failure',
    'failure_codes is configurable',
  );
  t.end();
});

void t.test(
  'balancer: half-open gets one probe outside panic; panic uses ejected endpoints',
  (t) => {
    const { clock, detector, endpoints } = setup(4, { consecutive_failures: 1 });
    const members = endpoints.map((endpoint) => ({ endpoint, weight: 1 }));
    const balancer = createLoadBalancer('round_robin', members, { panicThreshold: 50 });
    const pickAll = (n: number): string[] =>
      Array.from({ length: n }, () => {
        const picked = balancer.pick({ headers: {} });
        picked?.start();
        return picked?.address ?? 'none';
      });
    const first = nth(endpoints, 0);
    fail(detector, first);
    t.notOk(
      pickAll(8).includes(first.address),
      'ejected: never picked (3 of 4 available, no panic)',
    );
    clock.advance(30 * SECOND);
    const picks = pickAll(8);
    t.equal(picks.filter((a) => a === first.address).length, 1, 'half-open: exactly one probe');

    const two = setup(2, { consecutive_failures: 1 });
    const pair = createLoadBalancer(
      'round_robin',
      two.endpoints.map((endpoint) => ({ endpoint, weight: 1 })),
      { panicThreshold: 50 },
    );
    fail(two.detector, nth(two.endpoints, 0));
    fail(two.detector, nth(two.endpoints, 1));
    t.same(
      two.endpoints.map((e) => e.available),
      [false, true],
      'one of two ejected (50%)',
    );
    nth(two.endpoints, 1).health.set('active_check');
    t.not(pair.pick({ headers: {} }), undefined, 'none available: panic picks an ejected endpoint');
    t.end();
  },
);
