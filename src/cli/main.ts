#!/usr/bin/env node
/**
 * The `switchyard` command. Exit codes: 0 success (and clean shutdown), 1 a
 * bad config or a failure to start, 2 a usage error. While running: SIGHUP
 * reloads the config file (so does a change to it); SIGTERM/SIGINT drain
 * (docs/operations.md) and exit 0; a second one exits at once.
 */
import { loadConfigSource, type LoadedConfig } from '../app/config-source.js';
import { Switchyard } from '../app/switchyard.js';
import { ConfigError } from '../config/config-error.js';
import { loadConfigFile } from '../config/load-config.js';
import { createLogger, type Logger } from '../log/logger.js';
import { workerCount } from '../workers/worker-count.js';
import { parseCommand, USAGE, UsageError, type Command } from './args.js';
import { packageVersion } from './version.js';

async function main(argv: readonly string[]): Promise<number> {
  let command: Command;
  try {
    command = parseCommand(argv);
  } catch (error) {
    if (!(error instanceof UsageError)) throw error;
    process.stderr.write(`switchyard: ${error.message}\n\n${USAGE}`);
    return 2;
  }
  switch (command.kind) {
    case 'help':
      process.stdout.write(USAGE);
      return 0;
    case 'version':
      process.stdout.write(`switchyard ${packageVersion()}\n`);
      return 0;
    case 'validate':
      return validate(command.configPath);
    case 'run':
      return run(command);
  }
}

async function validate(path: string): Promise<number> {
  try {
    await loadConfigFile(path);
  } catch (error) {
    if (!(error instanceof ConfigError)) throw error;
    process.stderr.write(`${error.message}\n`);
    return 1;
  }
  process.stdout.write(`${path}: ok\n`);
  return 0;
}

async function run(command: Extract<Command, { kind: 'run' }>): Promise<number> {
  const logger = createLogger({ level: command.logLevel, pretty: command.logPretty });
  let loaded: LoadedConfig;
  try {
    loaded = await loadConfigSource(command.configPath);
  } catch (error) {
    if (!(error instanceof ConfigError)) throw error;
    process.stderr.write(`${error.message}\n`);
    logger.fatal({ errors: error.issues.length }, 'config rejected; not starting');
    return 1;
  }
  const workers = workerCount(command.workers ?? loaded.config.workers);
  if (workers > 1) return runWorkers(loaded, workers, command, logger);
  let proxy: Switchyard;
  try {
    const accessLogger = command.logPretty
      ? logger.child({ module: 'access' })
      : createLogger({ level: command.logLevel, pretty: false, buffered: true }).child({
          module: 'access',
        });
    proxy = await Switchyard.start(loaded.config, { logger, accessLogger, configFile: loaded });
  } catch (error) {
    logger.fatal({ err: error }, 'failed to start');
    return 1;
  }
  return new Promise<number>((resolve) => {
    let stopping = false;
    const stop = (signal: NodeJS.Signals): void => {
      if (stopping) {
        logger.warn({ signal }, 'second signal: exiting now');
        resolve(1);
        return;
      }
      stopping = true;
      logger.info({ signal }, 'shutting down: draining');
      proxy.drain().then(
        () => {
          logger.info('stopped');
          resolve(0);
        },
        (error: unknown) => {
          logger.error({ err: error }, 'error while shutting down');
          resolve(1);
        },
      );
    };
    process.on('SIGTERM', stop);
    process.on('SIGINT', stop);
    process.on('SIGHUP', () => {
      // The reloader logs the outcome (and every error with its position).
      void proxy.reload('SIGHUP');
    });
  });
}

/** `workers: N` with N > 1: a primary process and N workers (docs/workers.md). */
async function runWorkers(
  loaded: LoadedConfig,
  workers: number,
  command: Extract<Command, { kind: 'run' }>,
  logger: Logger,
): Promise<number> {
  // Loaded only here: with one worker nothing of node:cluster is used.
  const { Primary } = await import('../workers/primary.js');
  const primaryLogger = logger.child({ role: 'primary' });
  let primary: Awaited<ReturnType<typeof Primary.start>>;
  try {
    primary = await Primary.start(loaded, {
      workers,
      logger: primaryLogger,
      logLevel: command.logLevel,
      logPretty: command.logPretty,
    });
  } catch (error) {
    primaryLogger.fatal({ err: error }, 'failed to start');
    return 1;
  }
  return new Promise<number>((resolve) => {
    let stopping = false;
    const stop = (signal: NodeJS.Signals): void => {
      if (stopping) {
        primaryLogger.warn({ signal }, 'second signal: exiting now');
        primary.kill();
        resolve(1);
        return;
      }
      stopping = true;
      primaryLogger.info({ signal }, 'shutting down: draining every worker');
      primary.drain().then(
        () => {
          primaryLogger.info('stopped');
          resolve(0);
        },
        (error: unknown) => {
          primaryLogger.error({ err: error }, 'error while shutting down');
          resolve(1);
        },
      );
    };
    process.on('SIGTERM', stop);
    process.on('SIGINT', stop);
    process.on('SIGHUP', () => {
      void primary.reload('SIGHUP');
    });
  });
}

main(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
    // Give pino's asynchronous stdout a turn to flush, then leave even if a
    // stray handle (a backend connection in teardown) would keep us alive.
    setTimeout(() => process.exit(code), 100).unref();
  },
  (error: unknown) => {
    process.stderr.write(`switchyard: unexpected error: ${String(error)}\n`);
    process.exit(1);
  },
);
