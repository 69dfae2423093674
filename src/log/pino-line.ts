/**
 * Writes a line to a pino logger's destination the way pino would write it
 * (`{"level":…,"time":…<bindings><fields>,"msg":…}` + end), from fields the
 * caller has already serialised. Only for loggers where that is exactly
 * pino's output: no formatters.log, mixin, streamWrite hook, redaction,
 * nestedKey or destination that wants metadata (multistream); for any other
 * logger `lineWriter` returns undefined and the caller logs normally.
 */
import { pino, type Logger } from 'pino';
import { isLineSink } from './line-batch.js';
import { EncodedPart, maxPartBytes, partText, type LinePart } from './line-part.js';

/**
 * Writes one `info` line whose fields (`,"key":value…`) are given as parts,
 * `fields[0]` to `fields[count - 1]` joined; the message is fixed. The array
 * is only read during the call (the caller reuses it).
 */
export type InfoLineWriter = (fields: readonly LinePart[], count: number) => void;

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
  const bindingsOf = (): string => internals[s.chindingsSym] as string;
  // Parts every line takes are flat (one piece each for the destination to
  // walk) and encoded once, for a destination that copies bytes.
  const messagePart = new EncodedPart(
    ',' + JSON.stringify(messageKey) + ':' + JSON.stringify(message) + end,
  );
  const level = new EncodedPart(levelPrefix);
  // Bindings read per line: a child's bindings may be replaced (setBindings).
  let bindings = new EncodedPart(bindingsOf());
  const bindingsPart = (): EncodedPart => {
    const now = bindingsOf();
    if (now !== bindings.text) bindings = new EncodedPart(now);
    return bindings;
  };
  if (!isLineSink(stream)) {
    return (fields, count) => {
      const b = bindingsPart().text;
      stream.write(level.text + timeOf() + b + joined(fields, count) + messagePart.text);
    };
  }
  // Our own batched stdout: the parts go into its batch one after another,
  // with no string of the whole line made only to be encoded and dropped.
  const sink = stream;
  // pino's default clock (`,"time":` and Date.now()) goes as the number
  // after a constant: its template string is a rope, and encoding a rope
  // flattens it first (a call into the runtime and a copy, per line).
  const epochTime = timeOf === pino.stdTimeFunctions.epochTime;
  const head = epochTime ? new EncodedPart(levelPrefix + ',"time":') : level;
  const fixedBytes = head.bytes.length + messagePart.bytes.length;
  // Under load many lines share a millisecond: its decimal is made once.
  let lastMs = -1;
  let lastMsText = '';
  const epochText = (): string => {
    const ms = Date.now();
    if (ms !== lastMs) {
      lastMs = ms;
      lastMsText = String(ms);
    }
    return lastMsText;
  };
  return (fields, count) => {
    const b = bindingsPart();
    const time = epochTime ? epochText() : timeOf();
    let maxBytes = fixedBytes + maxPartBytes(time) + b.bytes.length;
    for (let i = 0; i < count; i++) maxBytes += maxPartBytes(fields[i] ?? '');
    if (!sink.beginLine(maxBytes)) {
      // Larger than a batch (a huge error message): written whole.
      sink.write(head.text + time + b.text + joined(fields, count) + messagePart.text);
      return;
    }
    sink.put(head);
    sink.put(time);
    sink.put(b);
    for (let i = 0; i < count; i++) sink.put(fields[i] ?? '');
    sink.put(messagePart);
  };
}

function joined(parts: readonly LinePart[], count: number): string {
  let s = '';
  for (let i = 0; i < count; i++) s += partText(parts[i] ?? '');
  return s;
}
