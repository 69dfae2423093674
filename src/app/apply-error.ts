/**
 * A reload refused while applying a valid config (a listener that cannot
 * bind), with the config paths to blame; the reloader turns them into
 * file:line:col issues.
 */
import type { NodeIssue } from '../config/yaml-locator.js';

export class ApplyError extends Error {
  readonly issues: readonly NodeIssue[];

  constructor(issues: readonly NodeIssue[]) {
    super(issues.map((i) => i.message).join('\n'));
    this.name = 'ApplyError';
    this.issues = issues;
  }
}
