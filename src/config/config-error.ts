/**
 * How config problems reach the user: each one pinned to a file position and
 * a path into the config, all of them at once, so one edit-and-retry round
 * fixes everything.
 */

export interface ConfigIssue {
  readonly file: string;
  /** 1-based. */
  readonly line: number;
  /** 1-based. */
  readonly col: number;
  /** Like `clusters[0].endpoints[1].address`; empty for the whole document. */
  readonly path: string;
  readonly message: string;
}

/** `config.yaml:12:7 clusters[0].endpoints[1].address: expected host:port`. */
export function formatIssue(issue: ConfigIssue): string {
  const where = `${issue.file}:${issue.line}:${issue.col}`;
  return issue.path === ''
    ? `${where} ${issue.message}`
    : `${where} ${issue.path}: ${issue.message}`;
}

const IDENTIFIER = /^[A-Za-z_][A-Za-z0-9_]*$/;

/**
 * `['clusters', 0, 'name']` as `clusters[0].name`. Keys that would be
 * ambiguous after a dot (header names such as `x-tenant`) are bracketed and quoted.
 */
export function formatPath(segments: readonly (string | number)[]): string {
  let path = '';
  for (const segment of segments) {
    if (typeof segment === 'number') path += `[${segment}]`;
    else if (IDENTIFIER.test(segment)) path += path === '' ? segment : `.${segment}`;
    else path += `[${JSON.stringify(segment)}]`;
  }
  return path;
}

export class ConfigError extends Error {
  readonly issues: readonly ConfigIssue[];

  /** Issues are sorted by position and exact repeats dropped, whatever order they were found in. */
  constructor(issues: readonly ConfigIssue[]) {
    const sorted = sortIssues(issues);
    super(sorted.map(formatIssue).join('\n'));
    this.name = 'ConfigError';
    this.issues = sorted;
  }
}

function sortIssues(issues: readonly ConfigIssue[]): ConfigIssue[] {
  const seen = new Set<string>();
  const unique = issues.filter((issue) => {
    const line = formatIssue(issue);
    if (seen.has(line)) return false;
    seen.add(line);
    return true;
  });
  // Stable: issues at the same spot keep the order they were found in.
  return unique.sort(
    (a, b) =>
      (a.file === b.file ? 0 : a.file < b.file ? -1 : 1) || a.line - b.line || a.col - b.col,
  );
}
