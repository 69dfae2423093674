/**
 * YAML-level problems that the parser lets through but that would make the
 * loaded config differ from what the user wrote: repeated keys (the last one
 * would silently win) and aliases to anchors that do not exist.
 */
import { isAlias, isMap, isSeq, type Document } from 'yaml';
import { formatPath, type ConfigIssue } from './config-error.js';
import { nodeStart, scalarKey, type PathSegment, type YamlLocator } from './yaml-locator.js';

export interface YamlStructure {
  readonly issues: ConfigIssue[];
  /** `doc.toJS()` throws on these, so loading cannot go on. */
  readonly hasUnresolvedAlias: boolean;
}

export function checkYamlStructure(
  doc: Document,
  locator: YamlLocator,
  file: string,
): YamlStructure {
  const issues: ConfigIssue[] = [];
  let hasUnresolvedAlias = false;

  // Positions come straight from the nodes walked, not from paths: with a
  // repeated key a path is ambiguous, and these issues are about exactly that.
  const report = (offset: number, path: readonly PathSegment[], message: string): void => {
    issues.push({ file, ...locator.positionOf(offset), path: formatPath(path), message });
  };

  const walk = (node: unknown, path: readonly PathSegment[]): void => {
    if (isAlias(node)) {
      // Not followed: the anchored node is walked where it is defined.
      if (node.resolve(doc) === undefined) {
        hasUnresolvedAlias = true;
        report(
          nodeStart(node) ?? 0,
          path,
          `unknown alias *${node.source}: define the anchor &${node.source} before using it`,
        );
      }
    } else if (isSeq(node)) {
      node.items.forEach((item, index) => {
        walk(item, [...path, index]);
      });
    } else if (isMap(node)) {
      const firstLines = new Map<string, number>();
      for (const pair of node.items) {
        const key = scalarKey(pair.key);
        if (key === undefined) continue;
        const start = nodeStart(pair.key) ?? 0;
        const firstLine = firstLines.get(key);
        if (firstLine === undefined) firstLines.set(key, locator.positionOf(start).line);
        else report(start, [...path, key], `duplicate key "${key}" (first at line ${firstLine})`);
        walk(pair.value, [...path, key]);
      }
    }
  };

  walk(doc.contents, []);
  return { issues, hasUnresolvedAlias };
}
