/**
 * The repository's root directory: the nearest ancestor of this module that
 * holds package.json. The suite runs compiled (dist/test/…), and fixtures
 * (protos, configs, scripts) are not compiled, so tests address them from
 * here, never relative to their own module's location.
 */
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

function findRoot(start: string): string {
  let dir = start;
  while (!existsSync(join(dir, 'package.json'))) {
    const parent = dirname(dir);
    if (parent === dir) throw new Error(`no package.json above ${start}`);
    dir = parent;
  }
  return dir;
}

export const REPO_ROOT = findRoot(dirname(fileURLToPath(import.meta.url)));

/** `segments` joined onto the repository root. */
export function repoPath(...segments: string[]): string {
  return join(REPO_ROOT, ...segments);
}
