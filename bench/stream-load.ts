/** The streaming case: concurrent long server streams read as fast as the target sends. */
import http2 from 'node:http2';

export interface StreamResult {
  readonly messages: number;
  readonly bytes: number;
  readonly seconds: number;
}

export async function streamLoad(
  port: number,
  streams: number,
  messagesPerStream: number,
  messageSize: number,
): Promise<StreamResult> {
  const session = http2.connect(`http://127.0.0.1:${port}`, {
    settings: { initialWindowSize: 1 << 20 },
  });
  session.on('error', () => undefined);
  await new Promise<void>((resolve, reject) => {
    session.once('connect', () => resolve());
    session.once('error', reject);
  });
  session.setLocalWindowSize(8 << 20);
  const started = performance.now();
  const one = (): Promise<number> =>
    new Promise((resolve, reject) => {
      const stream = session.request({
        ':method': 'POST',
        ':path': '/bench.Bench/Stream',
        'content-type': 'application/grpc',
        te: 'trailers',
        'x-bench-count': String(messagesPerStream),
        'x-bench-size': String(messageSize),
      });
      stream.end();
      let bytes = 0;
      let status: string | undefined;
      stream.on('data', (chunk: Buffer) => (bytes += chunk.length));
      stream.on('trailers', (t: http2.IncomingHttpHeaders) => (status = String(t['grpc-status'])));
      stream.on('error', reject);
      stream.on('close', () =>
        status === '0'
          ? resolve(bytes)
          : reject(new Error(`stream ended with grpc-status ${status ?? 'none'}`)),
      );
    });
  const totals = await Promise.all(Array.from({ length: streams }, one));
  const seconds = (performance.now() - started) / 1000;
  session.close();
  const bytes = totals.reduce((a, b) => a + b, 0);
  const expected = streams * messagesPerStream * (messageSize + 5);
  if (bytes !== expected) throw new Error(`stream bytes ${bytes}, expected ${expected}`);
  return { messages: streams * messagesPerStream, bytes, seconds };
}
