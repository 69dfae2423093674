/**
 * Regenerates schema/switchyard.schema.json from the TypeBox schema. Run from
 * the repository root (npm scripts do); a test fails when the file is stale.
 */
import { writeFileSync } from 'node:fs';
import { renderSchema } from '../src/config/render-schema.js';

const target = 'schema/switchyard.schema.json';
writeFileSync(target, renderSchema());
process.stdout.write(`wrote ${target}\n`);
