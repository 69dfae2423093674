/**
 * Maps a path into the parsed config (`['clusters', 0, 'endpoints']`) back to
 * the line and column of the YAML text it came from, so every issue can point
 * at the exact spot to edit.
 */
import {
  isAlias,
  isMap,
  isNode,
  isScalar,
  isSeq,
  type Document,
  type LineCounter,
  type Pair,
} from 'yaml';
import { formatPath, type ConfigIssue } from './config-error.js';

export type PathSegment = string | number;

export interface SourcePosition {
  readonly line: number;
  readonly col: number;
}

/** An issue that knows where it is in the config but not yet where that is in the file. */
export interface NodeIssue {
  readonly path: readonly PathSegment[];
  /** `key` points at the mapping key naming the last segment (e.g. an unknown key). */
  readonly at: 'key' | 'value';
  readonly message: string;
}

export interface YamlLocator {
  /**
   * Where the node at `path` starts (or its mapping key, for `at: 'key'`). A
   * path that runs past the document resolves to its deepest existing node.
   */
  position(path: readonly PathSegment[], at?: 'key' | 'value'): SourcePosition;
  /** Where the character at `offset` in the text is. */
  positionOf(offset: number): SourcePosition;
  issue(file: string, issue: NodeIssue): ConfigIssue;
}

/**
 * The string a mapping key becomes in `doc.toJS()`: scalars are stringified,
 * `null` becomes "". Non-scalar keys have no useful string form here.
 */
export function scalarKey(key: unknown): string | undefined {
  if (!isScalar(key)) return undefined;
  const value = key.value;
  if (value === null) return '';
  if (typeof value === 'string') return value;
  return typeof value === 'number' || typeof value === 'boolean' || typeof value === 'bigint'
    ? String(value)
    : undefined;
}

export function createLocator(doc: Document, lineCounter: LineCounter): YamlLocator {
  const positionOf = (offset: number): SourcePosition => lineCounter.linePos(offset);

  function position(path: readonly PathSegment[], at: 'key' | 'value' = 'value'): SourcePosition {
    let node: unknown = doc.contents;
    let pair: Pair | undefined;
    // Fall back to the deepest node found, so a path into a broken subtree still lands nearby.
    let fallback = startOf(node, undefined) ?? { line: 1, col: 1 };
    for (const segment of path) {
      const step = child(deref(node), segment);
      if (step === undefined) return fallback;
      node = step.node;
      pair = step.pair;
      fallback = startOf(node, pair) ?? fallback;
    }
    if (at === 'key' && pair !== undefined) return startOf(pair.key, undefined) ?? fallback;
    return fallback;
  }

  function startOf(node: unknown, pair: Pair | undefined): SourcePosition | undefined {
    const range = span(node);
    // `key:` with no value yields an empty scalar just past the colon; the key is the clearer spot.
    if ((range === undefined || range[0] === range[1]) && pair !== undefined) {
      const keyRange = span(pair.key);
      if (keyRange !== undefined) return positionOf(keyRange[0]);
    }
    return range === undefined ? undefined : positionOf(range[0]);
  }

  function deref(node: unknown): unknown {
    return isAlias(node) ? node.resolve(doc) : node;
  }

  return {
    position,
    positionOf,
    issue(file, { path, at, message }) {
      const { line, col } = position(path, at);
      return { file, line, col, path: formatPath(path), message };
    },
  };
}

/** Offset of the first character of `node` in the text, if it came from the text. */
export function nodeStart(node: unknown): number | undefined {
  return span(node)?.[0];
}

function span(node: unknown): readonly [start: number, end: number] | undefined {
  if (!isNode(node) || !node.range) return undefined;
  return [node.range[0], node.range[1]];
}

function child(
  node: unknown,
  segment: PathSegment,
): { node: unknown; pair: Pair | undefined } | undefined {
  if (isSeq(node)) {
    const index = Number(segment);
    return Number.isInteger(index) && index >= 0 && index < node.items.length
      ? { node: node.items[index], pair: undefined }
      : undefined;
  }
  if (isMap(node)) {
    // The last pair wins, as it does in `toJS()` when a key is repeated.
    const pair = node.items.findLast((item) => scalarKey(item.key) === String(segment));
    return pair === undefined ? undefined : { node: pair.value, pair };
  }
  return undefined;
}
