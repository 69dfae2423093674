/**
 * Loads the YAML config into a validated `Config`, or throws a ConfigError
 * listing every problem found, each at its line and column.
 *
 * Stages, each stopping the load only when the next could not make sense of
 * the input: YAML syntax (stops: the tree may be garbage), YAML structure
 * (repeated keys, dangling aliases), the schema, then the rules the schema
 * cannot express. Schema and semantic issues are reported together.
 */
import { readFile } from 'node:fs/promises';
import { dirname, resolve } from 'node:path';
import { LineCounter, parseDocument, type YAMLError } from 'yaml';
import { ConfigError, type ConfigIssue } from './config-error.js';
import { describeFsError } from './describe-fs-error.js';
import type { Config } from './schema.js';
import { schemaIssues } from './schema-issues.js';
import { validateConfigSchema } from './schema-validator.js';
import { semanticIssues } from './semantic-checks.js';
import { resolveTlsPaths, tlsFileIssues } from './tls-files.js';
import { createLocator, type YamlLocator } from './yaml-locator.js';
import { checkYamlStructure } from './yaml-structure.js';

/**
 * Parses and validates config `text`. `file` names it in messages and anchors
 * relative paths in it (TLS files; a name that is not a real path, such as
 * "<stdin>", anchors them at the cwd); the returned config has those made
 * absolute. Checks that TLS files are readable, synchronously.
 */
export function parseConfigText(text: string, file: string): Config {
  const lineCounter = new LineCounter();
  const doc = parseDocument(text, {
    lineCounter,
    // Plain messages: positions are reported our way, and a code frame would repeat the line.
    prettyErrors: false,
    // Repeated keys are found by checkYamlStructure, which can say where the first one was.
    uniqueKeys: false,
  });
  const locator = createLocator(doc, lineCounter);

  if (doc.errors.length > 0) {
    throw new ConfigError(
      firstPerPosition(doc.errors).map((error) => yamlIssue(error, file, locator)),
    );
  }
  const structure = checkYamlStructure(doc, locator, file);
  const issues: ConfigIssue[] = [
    ...doc.warnings.map((warning) => yamlIssue(warning, file, locator)),
    ...structure.issues,
  ];
  if (structure.hasUnresolvedAlias) throw new ConfigError(issues);

  let data: unknown;
  try {
    // maxAliasCount (default 100) stops "billion laughs" expansion here.
    data = doc.toJS();
  } catch (error) {
    const message = error instanceof Error ? error.message : String(error);
    throw new ConfigError([...issues, rootIssue(file, `invalid YAML: ${message}`)]);
  }
  if (data === null || data === undefined) {
    throw new ConfigError([
      ...issues,
      rootIssue(file, 'config is empty; expected a mapping with listeners, routes and clusters'),
    ]);
  }

  const config = validateConfigSchema(data) ? data : undefined;
  const schemaErrors = validateConfigSchema.errors ?? [];
  const baseDir = dirname(resolve(file));
  const nodeIssues = [
    ...schemaIssues(schemaErrors, data),
    ...semanticIssues(data, locator),
    ...tlsFileIssues(data, baseDir),
  ];
  issues.push(...nodeIssues.map((issue) => locator.issue(file, issue)));
  if (config === undefined && issues.length === 0) {
    // Unreachable while every ajv error maps to an issue; never let a bad config through silently.
    issues.push(rootIssue(file, 'config does not match the schema'));
  }
  if (issues.length > 0 || config === undefined) throw new ConfigError(issues);
  return resolveTlsPaths(config, baseDir);
}

/** Reads and parses the config file at `path` (see parseConfigText). */
export async function loadConfigFile(path: string): Promise<Config> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (error) {
    throw new ConfigError([rootIssue(path, `cannot read config: ${describeFsError(error)}`)]);
  }
  return parseConfigText(text, path);
}

function yamlIssue(error: YAMLError, file: string, locator: YamlLocator): ConfigIssue {
  const { line, col } = locator.positionOf(error.pos[0]);
  // yaml's own wording for this one points the user at its API.
  const message =
    error.code === 'MULTIPLE_DOCS'
      ? 'the config must be a single YAML document; remove this "---" and what follows'
      : sentenceTail(error.message);
  return { file, line, col, path: '', message: `invalid YAML: ${message}` };
}

/** yaml often piles several errors on the spot where it lost track; the first one names the cause. */
function firstPerPosition(errors: readonly YAMLError[]): YAMLError[] {
  const seen = new Set<number>();
  return errors.filter((error) => {
    if (seen.has(error.pos[0])) return false;
    seen.add(error.pos[0]);
    return true;
  });
}

function rootIssue(file: string, message: string): ConfigIssue {
  return { file, line: 1, col: 1, path: '', message };
}

/** "Tabs are not allowed" reads as "invalid YAML: tabs are not allowed". */
function sentenceTail(message: string): string {
  return /^[A-Z][a-z]/.test(message) ? message.charAt(0).toLowerCase() + message.slice(1) : message;
}
