/**
 * One short, stable wording for file-system failures in config messages:
 * `ENOENT: no such file or directory`, without the path Node appends (the
 * issue already names it).
 */
import { getSystemErrorMap } from 'node:util';

export function describeFsError(error: unknown): string {
  if (!(error instanceof Error)) return String(error);
  const code = 'code' in error && typeof error.code === 'string' ? error.code : undefined;
  const errno = 'errno' in error && typeof error.errno === 'number' ? error.errno : undefined;
  const description = errno === undefined ? undefined : getSystemErrorMap().get(errno)?.[1];
  return code !== undefined && description !== undefined
    ? `${code}: ${description}`
    : error.message;
}
