/**
 * The published JSON Schema (schema/switchyard.schema.json), for editors and
 * CI linters. Rendered from the same TypeBox schema the loader validates
 * with, so the two cannot disagree; a test fails when the file is stale.
 */
import { ConfigSchema } from './schema.js';

/** The file's exact contents. JSON.stringify drops TypeBox's symbol-keyed `[Kind]` markers. */
export function renderSchema(): string {
  // Identity first, so a reader of the file sees what it is before the details.
  const { $id, title, ...rest } = ConfigSchema;
  const document = { $schema: 'http://json-schema.org/draft-07/schema#', $id, title, ...rest };
  return `${JSON.stringify(document, null, 2)}\n`;
}
