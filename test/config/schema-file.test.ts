import { readFileSync } from 'node:fs';
import t from 'tap';
import { renderSchema } from '../../src/config/render-schema.js';
import { repoPath } from '../helpers/repo-root.js';

const schemaFile = repoPath('schema', 'switchyard.schema.json');

void t.test('schema/switchyard.schema.json matches src/config/schema.ts', (t) => {
  const onDisk = readFileSync(schemaFile, 'utf8');
  t.ok(
    onDisk === renderSchema(),
    'schema/switchyard.schema.json is stale: run `npm run schema` and commit the result',
  );
  t.end();
});

void t.test('the rendered schema is plain draft-07 JSON Schema', (t) => {
  const schema: unknown = JSON.parse(renderSchema());
  t.match(schema, {
    $schema: 'http://json-schema.org/draft-07/schema#',
    $id: 'https://switchyard.dev/schema/switchyard.schema.json',
    type: 'object',
    required: ['listeners', 'routes', 'clusters'],
  });
  t.end();
});
