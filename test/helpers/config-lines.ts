/** Config tests written as YAML lines, with the issues they produce. */
import { ConfigError, formatIssue } from '../../src/config/config-error.js';
import { parseConfigText } from '../../src/config/load-config.js';

/** The formatted issues parseConfigText throws for `lines`, or [] when it loads. */
export function issues(lines: readonly string[], file = 'config.yaml'): string[] {
  try {
    parseConfigText(`${lines.join('\n')}\n`, file);
    return [];
  } catch (error) {
    if (!(error instanceof ConfigError)) throw error;
    return error.issues.map(formatIssue);
  }
}

/** A valid config up to `endpoints:` (line 10); endpoint lines follow it. */
export const UP_TO_ENDPOINTS: readonly string[] = [
  'listeners:', //                  1
  '  - name: public', //            2
  '    address: 0.0.0.0:8080', //   3
  'routes:', //                     4
  '  - name: all', //               5
  '    match: {}', //               6
  '    cluster: backends', //       7
  'clusters:', //                   8
  '  - name: backends', //          9
  '    endpoints:', //             10
];

/** A small valid config: 11 lines, its one cluster last, so cases can append to or edit it. */
export const SMALL_CONFIG: readonly string[] = [...UP_TO_ENDPOINTS, '      - 10.0.0.7:50051']; // 11
