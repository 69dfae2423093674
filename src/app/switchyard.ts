/**
 * The running proxy: the control plane's current Snapshot, the listeners
 * that feed calls into the data path, and the admin endpoint.
 */
import { AdminServer } from '../admin/admin-server.js';
import { requireByteSize } from '../config/byte-size.js';
import { DEFAULTS, type Config } from '../config/schema.js';
import { Listener } from '../listener/listener.js';
import { AccessLog } from '../log/access-log.js';
import { silentLogger, type Logger } from '../log/logger.js';
import { ProxyCall, type CallEnvironment } from '../proxy/proxy-call.js';
import type { Snapshot } from '../proxy/snapshot.js';
import { compileSnapshot } from './compile-snapshot.js';

export interface SwitchyardOptions {
  readonly logger?: Logger;
  /** Where the access log goes (one line per call); a child of `logger` by default. */
  readonly accessLogger?: Logger;
}

export class Switchyard {
  readonly #logger: Logger;
  #snapshot: Snapshot;
  readonly #listeners = new Map<string, Listener>();
  #admin: AdminServer | undefined;
  #ready = false;

  private constructor(config: Config, logger: Logger) {
    this.#logger = logger;
    this.#snapshot = compileSnapshot(config, logger.child({ module: 'upstream' }));
  }

  /** Binds every listener (and the admin endpoint); rejects if any cannot bind. */
  static async start(config: Config, options: SwitchyardOptions = {}): Promise<Switchyard> {
    const logger = options.logger ?? silentLogger();
    const proxy = new Switchyard(config, logger);
    try {
      if (config.admin !== undefined) {
        proxy.#admin = await AdminServer.start(config.admin.address, {
          get ready() {
            return proxy.#ready;
          },
        });
        logger.info({ address: proxy.#admin.address }, 'admin listening');
      }
      const accessLog = new AccessLog(options.accessLogger ?? logger.child({ module: 'access' }));
      for (const listenerConfig of config.listeners) {
        const env: CallEnvironment = {
          sink: accessLog,
          appendForwardedFor:
            (listenerConfig.x_forwarded_for ?? DEFAULTS.xForwardedFor) === 'append',
          maxMessageBytes:
            listenerConfig.limits?.max_message_size === undefined
              ? undefined
              : requireByteSize(listenerConfig.limits.max_message_size),
        };
        const listener = await Listener.start(
          listenerConfig,
          (call) => new ProxyCall(call, proxy.#snapshot, env).run(),
          logger,
        );
        proxy.#listeners.set(listener.name, listener);
        logger.info(
          {
            listener: listener.name,
            address: listener.address,
            tls: listenerConfig.tls !== undefined,
          },
          'listening',
        );
      }
    } catch (error) {
      await proxy.close(0);
      throw error;
    }
    proxy.#ready = true;
    logger.info('switchyard ready');
    return proxy;
  }

  /** The address a listener bound to (the real port when config said 0). */
  listenerAddress(name: string): { host: string; port: number } {
    const listener = this.#listeners.get(name);
    if (listener === undefined) throw new Error(`no listener named ${name}`);
    return listener.address;
  }

  /** The admin endpoint's bound address, when configured. */
  get adminAddress(): { host: string; port: number } | undefined {
    return this.#admin?.address;
  }

  /**
   * Stops taking calls, lets in-flight calls finish for up to `graceMs`,
   * then closes backend connections and the admin endpoint.
   */
  async close(graceMs = 10_000): Promise<void> {
    this.#ready = false;
    await Promise.all([...this.#listeners.values()].map((l) => l.close(graceMs)));
    this.#listeners.clear();
    await Promise.all([...this.#snapshot.clusters.values()].map((c) => c.close()));
    await this.#admin?.close();
    this.#admin = undefined;
    this.#logger.info('closed');
  }
}
