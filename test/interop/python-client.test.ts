// Interop with a second gRPC implementation on the client side: Debian's
// python3-grpcio (gRPC C-core) as the client, through a real Switchyard, to
// (a) a grpc-js backend and (c) a python3-grpcio backend. Every case of
// echo_client.py runs against both; one Python process runs them all in turn
// (each on its own channel), since starting python3 with grpc is slow on a
// loaded machine.
//
// The deadline case goes to a slow copy of the backend: a route matching the
// client's `x-call-tag: deadline` sends it to cluster `slow`.
import t from 'tap';
import { startEchoBackend } from '../helpers/echo-backend.js';
import type { TestContext } from '../helpers/context.js';
import { CLUSTER_NAME, proxyConfig, ROUTE_NAME, startProxy } from '../helpers/proxy.js';
import { ECHO_SERVICE_NAME } from '../helpers/echo-proto.js';
import {
  extraString,
  metadataValues,
  nodeEngineForwardsHalfCloseBeforeReset,
  pythonGrpcVersion,
  runPythonClient,
  SPECIAL_STATUS_MESSAGE,
  startPythonBackend,
  TRICKY_BYTES,
  type PythonClientCase,
} from './python-grpc.js';

/** How a backend saw a call end; `unseen` when no end was reported in time. */
type SeenEnd = 'cancelled' | 'completed' | 'unseen';

/** A backend behind the proxy, whichever implementation it is. */
interface Backend {
  readonly address: string;
  /**
   * How the next `method` call the client tagged `tag` ends, as far as the
   * backend can tell (grpc-js tells cancellations only). Call before causing
   * the end; await it through `withinEndWait`.
   */
  nextEnd(tag: PythonClientCase, method: string): Promise<SeenEnd>;
}

interface BackendKind {
  readonly name: string;
  start(t: TestContext, id: string, delayMs?: number): Promise<Backend>;
  /** How this implementation words UNIMPLEMENTED for a method it lacks. */
  readonly unknownMethodDetails: RegExp;
}

/** Longest a backend may take to report a call's end, once the client is done with it. */
const END_WAIT_MS = 5000;

function withinEndWait(end: Promise<SeenEnd>): Promise<SeenEnd> {
  let timer: NodeJS.Timeout | undefined;
  const unseen = new Promise<SeenEnd>((resolve) => {
    timer = setTimeout(() => {
      resolve('unseen');
    }, END_WAIT_MS);
  });
  return Promise.race([end, unseen]).finally(() => {
    clearTimeout(timer);
  });
}

const GRPC_JS: BackendKind = {
  name: 'grpc-js',
  async start(t, id, delayMs = 0) {
    const backend = await startEchoBackend(id, { delayMs });
    t.teardown(() => backend.close());
    return {
      address: backend.address,
      // grpc-js reports cancellations only, and no call tags: the cases that
      // cancel are the only ones on their backend with that method ending early.
      nextEnd: (_tag, method) =>
        new Promise<SeenEnd>((resolve) => {
          const onCancelled = (call: { method: string }): void => {
            if (call.method !== method) return;
            backend.events.off('cancelled', onCancelled);
            resolve('cancelled');
          };
          backend.events.on('cancelled', onCancelled);
        }),
    };
  },
  unknownMethodDetails: /does not implement the method \/switchyard\.test\.Echo\/Nope/,
};

const PYTHON: BackendKind = {
  name: 'python3-grpcio',
  async start(t, id, delayMs = 0) {
    const backend = await startPythonBackend(t, id, { delayMs });
    return {
      address: backend.address,
      nextEnd: async (tag, method) => {
        const { how, method: seen } = await backend.nextEnd(tag);
        return seen === method ? how : 'unseen';
      },
    };
  },
  // C-core's answer for a method no handler claims.
  unknownMethodDetails: /^Method not found!$/,
};

/** The slow backends sleep this long before answering Unary: far past the client's 300 ms. */
const SLOW_MS = 2000;

const CASES: readonly PythonClientCase[] = [
  'unary',
  'server_stream',
  'client_stream',
  'bidi',
  'large',
  'metadata',
  'status',
  'status_trailers_only',
  'unknown_method',
  'unrouted_service',
  'cancel',
  'deadline',
];

void t.test('python3-grpcio (C-core) is installed for /usr/bin/python3', async (t) => {
  const version = await pythonGrpcVersion();
  t.comment(`python3-grpcio ${version}`);
  t.match(version, /^\d+\.\d+/);
});

for (const kind of [GRPC_JS, PYTHON]) {
  void t.test(`python3-grpcio client → Switchyard → ${kind.name} backend`, async (t) => {
    const [backend, slow] = await Promise.all([
      kind.start(t, 'b1'),
      kind.start(t, 'slow', SLOW_MS),
    ]);
    const { address } = await startProxy(
      t,
      proxyConfig([backend.address], {
        config: {
          routes: [
            {
              name: 'slow',
              match: { service: ECHO_SERVICE_NAME, headers: { 'x-call-tag': 'deadline' } },
              cluster: 'slow',
            },
            { name: ROUTE_NAME, match: { service: ECHO_SERVICE_NAME }, cluster: CLUSTER_NAME },
          ],
          clusters: [
            { name: CLUSTER_NAME, endpoints: [backend.address] },
            { name: 'slow', endpoints: [slow.address] },
          ],
        },
      }),
    );
    const cancelEnd = backend.nextEnd('cancel', 'Bidi');
    const deadlineEnd = slow.nextEnd('deadline', 'Unary');
    const results = await runPythonClient(t, address, CASES);

    void t.test('unary', (t) => {
      const result = results.get('unary');
      t.equal(result.code, 'OK', result.details);
      t.equal(result.replies.length, 1);
      t.equal(result.replies[0]?.message, 'hello from python');
      t.equal(result.replies[0]?.backend, 'b1');
      t.equal(
        result.replies[0]?.payloadSha256,
        extraString(result, 'sentSha256'),
        'payload echoed',
      );
      t.end();
    });

    void t.test('server streaming', (t) => {
      const result = results.get('server_stream');
      t.equal(result.code, 'OK', result.details);
      t.same(
        result.replies.map((r) => [r.index, r.payloadLength, r.message]),
        [0, 1, 2, 3, 4].map((i) => [i, 1000, 'tick']),
        'five replies of 1000 bytes, in order',
      );
      t.end();
    });

    void t.test('client streaming', (t) => {
      const result = results.get('client_stream');
      t.equal(result.code, 'OK', result.details);
      t.equal(result.replies[0]?.index, 5, 'backend counted five requests');
      t.equal(result.replies[0]?.totalBytes, 15 * 1024, 'and 1+2+3+4+5 KiB of payload');
      t.equal(result.replies[0]?.message, 'part 4', 'the last request’s message');
      t.end();
    });

    void t.test('bidi streaming, ping-pong', (t) => {
      const result = results.get('bidi');
      t.equal(result.code, 'OK', result.details);
      t.same(
        result.replies.map((r) => [r.index, r.message, r.payloadLength]),
        [0, 1, 2, 3, 4].map((i) => [i, `ping ${i}`, 10]),
        'each ping answered before the next went out',
      );
      t.end();
    });

    void t.test('4 MiB request and 4 MiB response', (t) => {
      const result = results.get('large');
      t.equal(result.code, 'OK', result.details);
      t.equal(result.extra['sentLength'], 4 * 1024 * 1024);
      t.equal(result.replies[0]?.payloadLength, 4 * 1024 * 1024);
      t.equal(result.replies[0]?.payloadSha256, extraString(result, 'sentSha256'), 'same bytes');
      t.end();
    });

    void t.test('custom metadata both ways, text and -bin, initial and trailing', (t) => {
      const result = results.get('metadata');
      t.equal(result.code, 'OK', result.details);
      const text = 'plain value: with spaces & symbols ~!@#$%^*()';
      const bin = TRICKY_BYTES.toString('hex');
      t.equal(extraString(result, 'sentBin'), bin, 'the client sent the bytes the test expects');
      t.same(metadataValues(result.initialMetadata, 'x-echo-text'), [text]);
      t.same(metadataValues(result.initialMetadata, 'x-echo-data-bin'), [bin], '-bin bytes intact');
      t.same(metadataValues(result.trailingMetadata, 'x-echo-text-trailer'), [text]);
      t.same(metadataValues(result.trailingMetadata, 'x-echo-data-trailer-bin'), [bin]);
      t.same(metadataValues(result.initialMetadata, 'x-echo-text-trailer'), [], 'trailers stay');
      t.same(metadataValues(result.trailingMetadata, 'x-echo-text'), [], 'headers stay');
      t.end();
    });

    for (const [name, caseName] of [
      ['after response headers', 'status'],
      ['trailers-only', 'status_trailers_only'],
    ] as const) {
      void t.test(`non-OK status with the special status message, ${name}`, (t) => {
        const result = results.get(caseName);
        t.equal(result.code, 'UNKNOWN');
        t.equal(result.details, SPECIAL_STATUS_MESSAGE, 'message decoded byte for byte');
        t.equal(extraString(result, 'expectedDetails'), SPECIAL_STATUS_MESSAGE);
        t.same(
          metadataValues(result.trailingMetadata, 'grpc-status-details-bin'),
          [extraString(result, 'expectedStatusDetails')],
          'grpc-status-details-bin carried',
        );
        if (caseName === 'status') {
          t.same(metadataValues(result.initialMetadata, 'x-echo-status'), ['failing']);
          t.same(metadataValues(result.trailingMetadata, 'x-echo-status-trailer'), ['failing']);
        } else {
          t.same(result.initialMetadata, [], 'no response headers');
        }
        t.end();
      });
    }

    void t.test('unknown method of a routed service: UNIMPLEMENTED from the backend', (t) => {
      const result = results.get('unknown_method');
      t.equal(result.code, 'UNIMPLEMENTED');
      t.match(result.details, kind.unknownMethodDetails);
      t.notMatch(result.details, /no route/i, 'not the proxy’s own reply');
      t.end();
    });

    void t.test('unknown service: UNIMPLEMENTED from the proxy (route miss)', (t) => {
      const result = results.get('unrouted_service');
      t.equal(result.code, 'UNIMPLEMENTED');
      t.match(result.details, /no route/i);
      t.match(result.details, '/other.Service/Method');
      t.end();
    });

    void t.test('cancellation', async (t) => {
      const result = results.get('cancel');
      t.equal(result.code, 'CANCELLED', result.details);
      t.equal(result.replies[0]?.message, 'before cancel', 'the call was up before the cancel');
      const end = await withinEndWait(cancelEnd);
      // A client's RST_STREAM must reach the backend as RST_STREAM(CANCEL),
      // never as END_STREAM first: C-core acts on a half-close at once.
      t.equal(end, 'cancelled', 'backend saw the Bidi call cancelled, not half-closed', {
        ...nodeEngineForwardsHalfCloseBeforeReset(kind === PYTHON),
      });
    });

    void t.test('deadline exceeded against a slow backend', async (t) => {
      const result = results.get('deadline');
      t.equal(result.code, 'DEADLINE_EXCEEDED', result.details);
      t.equal(result.extra['deadlineMs'], 300);
      t.ok(result.elapsedMs >= 250, `not long before the deadline (${result.elapsedMs} ms)`);
      t.ok(result.elapsedMs < 1500, `long before the backend's ${SLOW_MS} ms`);
      t.equal(
        await withinEndWait(deadlineEnd),
        'cancelled',
        'the slow backend’s call was cancelled',
      );
    });
  });
}
