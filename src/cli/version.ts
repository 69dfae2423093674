/** The package version, read from package.json next to the build output. */
import { readFileSync } from 'node:fs';

export function packageVersion(): string {
  // dist/src/cli/version.js -> ../../../package.json (also in the Docker image).
  const raw: unknown = JSON.parse(
    readFileSync(new URL('../../../package.json', import.meta.url), 'utf8'),
  );
  if (
    typeof raw === 'object' &&
    raw !== null &&
    'version' in raw &&
    typeof raw.version === 'string'
  ) {
    return raw.version;
  }
  return 'unknown';
}
