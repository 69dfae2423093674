/**
 * Binds a listener's server to its configured address, for either engine.
 * Rejects when the address is malformed or cannot be bound (after `onFailure`
 * has released what the listener holds); once bound, later server errors are
 * logged, never thrown: a listener error must not take the proxy down.
 */
import type { Server } from 'node:net';
import { parseHostPort } from '../config/host-port.js';
import type { ListenerConfig } from '../config/schema.js';
import type { Logger } from '../log/logger.js';

export async function bindServer(
  server: Server,
  config: ListenerConfig,
  logger: Logger,
  onFailure: () => void,
): Promise<void> {
  const address = parseHostPort(config.address);
  if (address === undefined) {
    onFailure();
    throw new Error(`listener ${config.name}: bad address ${config.address}`);
  }
  await new Promise<void>((resolve, reject) => {
    const failed = (error: Error): void => {
      onFailure();
      reject(error);
    };
    server.once('error', failed);
    server.listen(address.port, address.host, () => {
      server.off('error', failed);
      server.on('error', (error) => logger.error({ err: error }, 'listener error'));
      resolve();
    });
  });
}
