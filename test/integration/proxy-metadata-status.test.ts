// What the proxy must carry untouched: custom request and response metadata
// (text and -bin, initial and trailing), and every non-OK status with its
// message and grpc-status-details-bin, whether the backend answered
// trailers-only or with headers first.
import t from 'tap';
import * as grpc from '@grpc/grpc-js';
import { STATUS_DETAILS_KEY } from '../helpers/echo-backend.js';
import { collect, serviceError } from '../helpers/echo-client.js';
import { proxiedEcho } from '../helpers/harness.js';

const TRICKY_MESSAGE = '\t\ntest with whitespace\r\nand Unicode BMP ☺ and non-BMP 😈\t\n';

/** Bytes a header-smart layer could mangle: NUL, CR/LF, ',', high bytes, invalid UTF-8. */
const TRICKY_BYTES = Buffer.concat([
  Buffer.from(Array.from({ length: 256 }, (_, i) => i)),
  Buffer.from('\r\n, ;=', 'latin1'),
  Buffer.from([0xc3, 0x28, 0xf0, 0x9f, 0x98]),
]);

/** Non-bin metadata may legally be folded into one comma-joined value. */
function textValue(metadata: grpc.Metadata, key: string): string {
  return metadata
    .get(key)
    .map((v) => (typeof v === 'string' ? v : `<bytes ${v.toString('hex')}>`))
    .join(', ');
}

void t.test(
  'custom request and response metadata, text and -bin, initial and trailing',
  async (t) => {
    const { client, backends } = await proxiedEcho(t);
    const metadata = new grpc.Metadata();
    metadata.set('x-echo-text', 'plain value: with spaces & symbols ~!@#$%^*()');
    metadata.add('x-echo-multi', 'first');
    metadata.add('x-echo-multi', 'second');
    metadata.set('x-echo-data-bin', TRICKY_BYTES);
    metadata.add('x-echo-two-bin', Buffer.from([0x00]));
    metadata.add('x-echo-two-bin', Buffer.from([0xff, 0xfe]));
    metadata.set('x-request-only', 'to the backend');
    metadata.set('x-request-only-bin', Buffer.from([1, 2, 3]));

    const result = await client.unary({ message: 'metadata' }, metadata);
    t.equal(result.status.code, grpc.status.OK);

    const seen = backends[0]?.lastMetadata;
    if (seen === undefined) throw new Error('the backend saw no call');
    t.equal(textValue(seen, 'x-request-only'), 'to the backend', 'request text metadata');
    t.same(seen.get('x-request-only-bin'), [Buffer.from([1, 2, 3])], 'request -bin metadata');
    t.same(seen.get('x-echo-data-bin'), [TRICKY_BYTES], 'request -bin bytes untouched');

    const { headers, trailers } = result;
    t.equal(textValue(headers, 'x-echo-text'), 'plain value: with spaces & symbols ~!@#$%^*()');
    t.equal(textValue(headers, 'x-echo-multi'), 'first, second');
    t.same(headers.get('x-echo-data-bin'), [TRICKY_BYTES], 'initial -bin bytes untouched');
    t.same(headers.get('x-echo-two-bin'), [Buffer.from([0x00]), Buffer.from([0xff, 0xfe])]);

    t.equal(
      textValue(trailers, 'x-echo-text-trailer'),
      'plain value: with spaces & symbols ~!@#$%^*()',
    );
    t.equal(textValue(trailers, 'x-echo-multi-trailer'), 'first, second');
    t.same(
      trailers.get('x-echo-data-trailer-bin'),
      [TRICKY_BYTES],
      'trailing -bin bytes untouched',
    );
    t.same(trailers.get('x-echo-two-trailer-bin'), [
      Buffer.from([0x00]),
      Buffer.from([0xff, 0xfe]),
    ]);
    t.same(headers.get('x-echo-text-trailer'), [], 'trailers stay trailers');
    t.same(trailers.get('x-echo-text'), [], 'headers stay headers');
  },
);

void t.test('trailing metadata after a server stream', async (t) => {
  const { client } = await proxiedEcho(t);
  const metadata = new grpc.Metadata();
  metadata.set('x-echo-after-bin', TRICKY_BYTES);
  const result = await collect(client.serverStream({ count: 3 }, metadata));
  t.equal(result.replies.length, 3);
  t.same(result.headers.get('x-echo-after-bin'), [TRICKY_BYTES]);
  t.same(result.trailers.get('x-echo-after-trailer-bin'), [TRICKY_BYTES]);
});

const FAILURE_CODES = Array.from({ length: 16 }, (_, i) => i + 1);

for (const shape of ['trailers-only', 'headers then trailers'] as const) {
  void t.test(`every status 1..16 with message and details (${shape})`, async (t) => {
    const { client } = await proxiedEcho(t);
    for (const code of FAILURE_CODES) {
      const details = Buffer.concat([Buffer.from([0x08, code]), TRICKY_BYTES]);
      const metadata = new grpc.Metadata();
      // An x-echo- key makes the backend send headers before its status.
      if (shape === 'headers then trailers') metadata.set('x-echo-shape', 'headers');
      const error = await serviceError(
        client.unary(
          { message: 'fail', failCode: code, failMessage: TRICKY_MESSAGE, failDetails: details },
          metadata,
        ),
      );
      const name = grpc.status[code] ?? String(code);
      t.equal(error.code, code, `${name}: code`);
      t.equal(error.details, TRICKY_MESSAGE, `${name}: message`);
      t.same(error.metadata.get(STATUS_DETAILS_KEY), [details], `${name}: details bytes`);
      if (shape === 'headers then trailers') {
        t.same(error.metadata.get('x-echo-shape-trailer'), ['headers'], `${name}: trailers kept`);
      }
    }
  });
}

void t.test(
  'a server stream failing after its messages keeps code, message and details',
  async (t) => {
    const { client } = await proxiedEcho(t);
    const details = Buffer.from([0x08, 0x0a, 0x00, 0xff]);
    const stream = client.serverStream({
      count: 5,
      failCode: grpc.status.ABORTED,
      failMessage: TRICKY_MESSAGE,
      failDetails: details,
    });
    let received = 0;
    stream.on('data', () => {
      received += 1;
    });
    const error = await serviceError(collect(stream));
    t.equal(received, 5, 'the messages before the failure arrived');
    t.equal(error.code, grpc.status.ABORTED);
    t.equal(error.details, TRICKY_MESSAGE);
    t.same(error.metadata.get(STATUS_DETAILS_KEY), [details]);
  },
);
