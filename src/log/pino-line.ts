/**
 * Writes a line to a pino logger's destination the way pino would write it
 * (`{"level":…,"time":…<bindings><fields>,"msg":…}` + end), from fields the
 * caller has already serialised. Only for loggers where that is exactly
 * pino's output: no formatters.log, mixin, streamWrite hook, redaction,
 * nestedKey or destination that wants metadata (multistream); for any other
 * logger `lineWriter` returns undefined and the caller logs normally.
 */
import { pino, type Logger } from 'pino';
import { flat } from './flat-string.js';

/** Writes one `info` line whose fields (`,"key":value…`) are given; the message is fixed. */
export type InfoLineWriter = (fields: string) => void;

/** pino's per-logger state, reached through its exported symbols. */
interface PinoInternals {
  [key: symbol]: unknown;
}

const FORMATTERS = Symbol.for('pino.formatters');
const HOOKS = Symbol.for('pino.hooks');

export function lineWriter(logger: Logger, message: string): InfoLineWriter | undefined {
  const s = pino.symbols;
  const internals = logger as unknown as PinoInternals;
  const formatters = internals[FORMATTERS] as { log?: unknown } | undefined;
  const hooks = internals[HOOKS] as { streamWrite?: unknown } | undefined;
  const stringifiers = internals[s.stringifiersSym] as object | undefined;
  // pino's own `err` serialiser only; the fields written here never use that key.
  const serializers = internals[s.serializersSym] as object | undefined;
  const stream = internals[s.streamSym] as
    { write(line: string): unknown; [key: symbol]: unknown } | undefined;
  const levelPrefix = (internals[s.lsCacheSym] as Record<number, string> | undefined)?.[
    logger.levels.values.info ?? 30
  ];
  const time = internals[s.timeSym];
  const end = internals[s.endSym];
  const messageKey = internals[s.messageKeySym];
  if (
    formatters?.log !== undefined ||
    internals[s.mixinSym] !== undefined ||
    hooks?.streamWrite !== undefined ||
    (stringifiers !== undefined && Object.getOwnPropertySymbols(stringifiers).length > 0) ||
    (stringifiers !== undefined && Object.keys(stringifiers).length > 0) ||
    (serializers !== undefined && Object.keys(serializers).some((key) => key !== 'err')) ||
    internals[s.nestedKeySym] !== null ||
    stream === undefined ||
    stream[s.needsMetadataGsym] === true ||
    typeof levelPrefix !== 'string' ||
    typeof time !== 'function' ||
    typeof end !== 'string' ||
    typeof messageKey !== 'string'
  ) {
    return undefined;
  }
  const timeOf = time as () => string;
  // Parts every line takes are flat: one piece each for the destination to walk.
  const messagePart = flat(',' + JSON.stringify(messageKey) + ':' + JSON.stringify(message) + end);
  flat(levelPrefix);
  let flatBindings = '';
  return (fields) => {
    // Bindings read per line: a child's bindings may be replaced (setBindings).
    const bindings = internals[s.chindingsSym] as string;
    if (bindings !== flatBindings) flatBindings = flat(bindings);
    stream.write(levelPrefix + timeOf() + bindings + fields + messagePart);
  };
}
