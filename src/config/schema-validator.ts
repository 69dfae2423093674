/**
 * The compiled config schema. Compiled once per process: compiling is the
 * slow part of ajv, and the schema's `$id` may only be registered once per
 * Ajv instance.
 */
import { Ajv, type ValidateFunction } from 'ajv';
import { addConfigFormats } from './formats.js';
import { ConfigSchema, type Config } from './schema.js';

const ajv = addConfigFormats(
  new Ajv({
    // Every mistake in one run, not just the first.
    allErrors: true,
    // Errors carry the failing value and schema, which the messages are written from.
    verbose: true,
    // TypeBox's `[Kind]` markers are symbol keys, which ajv never sees, so full strict mode holds.
    strict: true,
    // The runtime applies DEFAULTS itself; the validated object stays exactly what was written.
    useDefaults: false,
  }),
);

/** Validates a parsed config; on failure the errors are in `validateConfigSchema.errors`. */
export const validateConfigSchema: ValidateFunction<Config> = ajv.compile<Config>(ConfigSchema);
