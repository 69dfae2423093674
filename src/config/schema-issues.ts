/**
 * Turns ajv's errors into messages written for someone editing YAML: one
 * issue per mistake, in the config's own words ("unknown key", "expected
 * host:port"), instead of ajv's schema-centric noise. In particular a union
 * that fails reports why the value fails the branch the user evidently meant,
 * not why it fails every branch.
 */
import type { ErrorObject } from 'ajv';
import { closestMatch } from './closest-match.js';
import { CONFIG_FORMATS } from './formats.js';
import { isRecord } from './is-record.js';
import type { NodeIssue, PathSegment } from './yaml-locator.js';

export function schemaIssues(errors: readonly ErrorObject[], data: unknown): NodeIssue[] {
  const kept = new Set(errors);
  const issues = collapseUnions(errors, kept, data);
  const suggested = suggestedKeys(errors, kept);
  for (const error of errors) {
    if (!kept.has(error)) continue;
    // "unknown key "endpoint" (did you mean "endpoints"?)" already covers the missing "endpoints".
    const missing = param(error, 'missingProperty');
    if (error.keyword === 'required' && suggested.has(`${error.instancePath}/${String(missing)}`)) {
      continue;
    }
    issues.push(describe(error, data));
  }
  return issues;
}

/**
 * For each failed `anyOf`, keeps only the errors of the branch whose type
 * matches the value (a string endpoint gets the string branch's errors), and
 * says "expected one of: a, b" once for a union of literals. Errors it drops
 * are removed from `kept`; the messages it writes instead are returned.
 */
function collapseUnions(
  errors: readonly ErrorObject[],
  kept: Set<ErrorObject>,
  data: unknown,
): NodeIssue[] {
  const issues: NodeIssue[] = [];
  // Outer unions first, so a branch dropped there takes any inner union's errors with it.
  const unions = errors
    .filter((error) => error.keyword === 'anyOf')
    .sort((a, b) => a.schemaPath.length - b.schemaPath.length);
  for (const union of unions) {
    if (!kept.has(union)) continue;
    kept.delete(union);
    const prefix = `${union.schemaPath}/`;
    const byBranch = new Map<number, ErrorObject[]>();
    for (const error of errors) {
      if (!error.schemaPath.startsWith(prefix) || !within(error.instancePath, union.instancePath)) {
        continue;
      }
      kept.delete(error);
      const branch = Number(error.schemaPath.slice(prefix.length).split('/')[0]);
      byBranch.set(branch, [...(byBranch.get(branch) ?? []), error]);
    }
    const branches: readonly unknown[] = Array.isArray(union.schema) ? union.schema : [];
    const path = toPath(union.instancePath, data);
    const literals = branches.map(literalValues);
    if (literals.length > 0 && literals.every((values) => values !== undefined)) {
      issues.push({ path, at: 'value', message: expectedOneOf(literals.flat()) });
      continue;
    }
    const value: unknown = union.data;
    const candidates = [...branches.keys()].filter((index) => typeMatches(branches[index], value));
    const keyIssue = branchKeyIssue(candidates, branches, value);
    if (keyIssue !== undefined) {
      issues.push({ path, at: 'value', message: keyIssue });
      continue;
    }
    const best = keyedBranches(candidates, branches, value)
      .map((index) => byBranch.get(index) ?? [])
      .filter((branchErrors) => branchErrors.length > 0)
      .sort((a, b) => a.length - b.length)[0];
    if (best === undefined) {
      issues.push({
        path,
        at: 'value',
        message: `${unionExpectation(union)}, got ${kindOf(value)}`,
      });
    } else {
      for (const error of best) kept.add(error);
    }
  }
  return issues;
}

/**
 * Several mapping branches (an endpoint's `{address}` and `{dns}` forms) are
 * told apart by their required keys: a mapping with none of them, or with
 * the keys of two branches, gets one message saying so instead of one
 * branch's errors chosen by chance.
 */
function branchKeyIssue(
  candidates: readonly number[],
  branches: readonly unknown[],
  value: unknown,
): string | undefined {
  if (!isRecord(value) || candidates.length < 2) return undefined;
  const keys = candidates.map((index) => requiredKeys(branches[index])[0]);
  if (!keys.every((key) => key !== undefined)) return undefined;
  const present = keys.filter((key) => key in value);
  const quoted = (list: readonly string[]): string => list.map((k) => `"${k}"`).join(' or ');
  if (present.length === 0) return `missing required key ${quoted(keys)}`;
  if (present.length > 1) return `give one of ${quoted(present)}, not both`;
  return undefined;
}

/** The candidates whose required key the mapping has (all candidates when that narrows to none). */
function keyedBranches(
  candidates: readonly number[],
  branches: readonly unknown[],
  value: unknown,
): readonly number[] {
  if (!isRecord(value)) return candidates;
  const keyed = candidates.filter((index) =>
    requiredKeys(branches[index]).some((key) => key in value),
  );
  return keyed.length > 0 ? keyed : candidates;
}

function requiredKeys(branch: unknown): string[] {
  const required = isRecord(branch) ? branch['required'] : undefined;
  return Array.isArray(required)
    ? required.filter((key): key is string => typeof key === 'string')
    : [];
}

/** `${instancePath}/${key}` for every unknown key that has a suggested spelling. */
function suggestedKeys(errors: readonly ErrorObject[], kept: Set<ErrorObject>): Set<string> {
  const suggested = new Set<string>();
  for (const error of errors) {
    if (!kept.has(error) || error.keyword !== 'additionalProperties') continue;
    const key = param(error, 'additionalProperty');
    const suggestion =
      typeof key === 'string' ? closestMatch(key, knownKeys(error.parentSchema)) : undefined;
    if (suggestion !== undefined) suggested.add(`${error.instancePath}/${suggestion}`);
  }
  return suggested;
}

function describe(error: ErrorObject, root: unknown): NodeIssue {
  const path = toPath(error.instancePath, root);
  const value: unknown = error.data;
  const parent: unknown = error.parentSchema;
  const atValue = (message: string): NodeIssue => ({ path, at: 'value', message });
  switch (error.keyword) {
    case 'additionalProperties': {
      const key = String(param(error, 'additionalProperty'));
      return { path: [...path, key], at: 'key', message: unknownKeyMessage(key, parent) };
    }
    case 'required':
      return atValue(`missing required key "${String(param(error, 'missingProperty'))}"`);
    case 'type':
      return atValue(typeMessage(param(error, 'type'), value, parent));
    case 'format': {
      const format = String(param(error, 'format'));
      return atValue(CONFIG_FORMATS[format]?.message ?? `expected a ${format}`);
    }
    case 'const':
      return atValue(expectedOneOf([param(error, 'allowedValue')]));
    case 'enum': {
      const allowed = param(error, 'allowedValues');
      return atValue(expectedOneOf(Array.isArray(allowed) ? allowed : []));
    }
    case 'pattern':
      return atValue(patternMessage(path, value, parent, String(param(error, 'pattern'))));
    case 'minItems':
      return atValue(`must list at least ${count(param(error, 'limit'), 'item')}`);
    case 'maxItems':
      return atValue(`must list at most ${count(param(error, 'limit'), 'item')}`);
    case 'minLength': {
      const limit = param(error, 'limit');
      return atValue(
        limit === 1 ? 'must not be empty' : `must be at least ${count(limit, 'character')}`,
      );
    }
    case 'maxLength':
      return atValue(`must be at most ${count(param(error, 'limit'), 'character')}`);
    case 'minimum': {
      const limit = String(param(error, 'limit'));
      // In a traffic split, 0 reads like "send it nothing"; say how to do that instead.
      if (value === 0 && path[0] === 'routes' && path.at(-1) === 'weight') {
        return atValue(
          `must be at least ${limit}: a weight of 0 is not allowed; to send a cluster no calls, remove its entry`,
        );
      }
      return atValue(`must be at least ${limit}`);
    }
    case 'maximum':
      return atValue(`must be at most ${String(param(error, 'limit'))}`);
    case 'exclusiveMinimum':
      return atValue(`must be greater than ${String(param(error, 'limit'))}`);
    case 'exclusiveMaximum':
      return atValue(`must be less than ${String(param(error, 'limit'))}`);
    case 'anyOf':
      return atValue(`${unionExpectation(error)}, got ${kindOf(value)}`);
    default:
      return atValue(error.message ?? 'is invalid');
  }
}

function unknownKeyMessage(key: string, parent: unknown): string {
  const known = knownKeys(parent);
  const patterns =
    isRecord(parent) && isRecord(parent['patternProperties'])
      ? Object.keys(parent['patternProperties'])
      : [];
  // A map with free-form keys (route headers): the key's spelling, not its name, is wrong.
  if (known.length === 0 && patterns.length > 0) {
    const lower = key.toLowerCase();
    const hint = patterns.some((pattern) => new RegExp(pattern, 'u').test(lower))
      ? ` (did you mean "${lower}"?)`
      : '';
    return `key "${key}" is not allowed: keys must match ${patterns.join(' or ')}${hint}`;
  }
  const suggestion = closestMatch(key, known);
  if (suggestion !== undefined) return `unknown key "${key}" (did you mean "${suggestion}"?)`;
  return known.length > 0
    ? `unknown key "${key}" (allowed: ${known.join(', ')})`
    : `unknown key "${key}"`;
}

function typeMessage(expected: unknown, value: unknown, parent: unknown): string {
  const format = isRecord(parent) ? parent['format'] : undefined;
  const spec = typeof format === 'string' ? CONFIG_FORMATS[format] : undefined;
  // YAML reads `16384` as a number; when the same text would pass as a string, say how to write it.
  if (spec !== undefined && (typeof value === 'number' || typeof value === 'boolean')) {
    return spec.validate(String(value))
      ? `${spec.message}; quote it: "${String(value)}"`
      : `${spec.message}, got ${kindOf(value)}`;
  }
  const types = (Array.isArray(expected) ? expected : [expected]).map((type) =>
    typeWord(String(type)),
  );
  return `expected ${types.join(' or ')}, got ${kindOf(value)}`;
}

function patternMessage(
  path: readonly PathSegment[],
  value: unknown,
  parent: unknown,
  pattern: string,
): string {
  const field = path.findLast((segment) => typeof segment === 'string') ?? 'value';
  const description = isRecord(parent) ? parent['description'] : undefined;
  const expectation =
    typeof description === 'string' ? `expected ${asClause(description)}` : `must match ${pattern}`;
  return `invalid ${field} ${JSON.stringify(value)}: ${expectation}`;
}

/** "expected <the union's description>", or the branches' types when it has none. */
function unionExpectation(union: ErrorObject): string {
  const parent: unknown = union.parentSchema;
  const description = isRecord(parent) ? parent['description'] : undefined;
  if (typeof description === 'string') return `expected ${asClause(description)}`;
  const branches: readonly unknown[] = Array.isArray(union.schema) ? union.schema : [];
  const types = branches.flatMap((branch) => {
    const type = isRecord(branch) ? branch['type'] : undefined;
    return typeof type === 'string' ? [typeWord(type)] : [];
  });
  return types.length > 0 ? `expected ${[...new Set(types)].join(' or ')}` : 'invalid value';
}

function expectedOneOf(values: readonly unknown[]): string {
  const words = values.map((value) => (typeof value === 'string' ? value : JSON.stringify(value)));
  return `expected one of: ${words.join(', ')}`;
}

/** The values a literal branch (`const` or `enum`) allows; undefined for any other branch. */
function literalValues(branch: unknown): readonly unknown[] | undefined {
  if (!isRecord(branch)) return undefined;
  if ('const' in branch) return [branch['const']];
  const values = branch['enum'];
  return Array.isArray(values) ? values : undefined;
}

function typeMatches(branch: unknown, value: unknown): boolean {
  const type = isRecord(branch) ? branch['type'] : undefined;
  if (type === undefined) return true;
  const kind = jsonType(value);
  const types: readonly unknown[] = Array.isArray(type) ? type : [type];
  return types.includes(kind) || (kind === 'integer' && types.includes('number'));
}

function knownKeys(schema: unknown): string[] {
  const properties = isRecord(schema) ? schema['properties'] : undefined;
  return isRecord(properties) ? Object.keys(properties) : [];
}

/** JSON Schema's name for the type of a value. */
function jsonType(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'array';
  if (typeof value === 'number') return Number.isInteger(value) ? 'integer' : 'number';
  return typeof value;
}

/** The YAML reader's word for a JSON Schema type. */
function typeWord(type: string): string {
  if (type === 'object') return 'mapping';
  if (type === 'array') return 'list';
  return type;
}

/** What the user wrote, for "got ...": the value itself when it is short and scalar. */
function kindOf(value: unknown): string {
  if (value === null || value === undefined) return 'an empty value';
  if (Array.isArray(value)) return 'a list';
  if (typeof value === 'string') {
    return value.length <= 40 ? `string ${JSON.stringify(value)}` : 'a string';
  }
  if (typeof value === 'number' || typeof value === 'boolean') {
    return `${jsonType(value)} ${String(value)}`;
  }
  return 'a mapping';
}

function count(limit: unknown, noun: string): string {
  return `${String(limit)} ${noun}${limit === 1 ? '' : 's'}`;
}

/** A schema description ("Letters, digits.") as the tail of a sentence ("letters, digits"). */
function asClause(description: string): string {
  const trimmed = description.trim().replace(/\.$/, '');
  // Lower-case "Letters" but not "PEM" or "gRPC".
  return /^[A-Z][a-z]/.test(trimmed) ? trimmed.charAt(0).toLowerCase() + trimmed.slice(1) : trimmed;
}

function param(error: ErrorObject, name: string): unknown {
  const params: Readonly<Record<string, unknown>> = error.params;
  return params[name];
}

function within(instancePath: string, ancestor: string): boolean {
  return instancePath === ancestor || instancePath.startsWith(`${ancestor}/`);
}

/**
 * A JSON pointer (`/clusters/0/name`) as path segments, with array indexes
 * as numbers; the data decides which segments are indexes.
 */
function toPath(pointer: string, root: unknown): PathSegment[] {
  if (pointer === '') return [];
  const path: PathSegment[] = [];
  let node: unknown = root;
  for (const raw of pointer.slice(1).split('/')) {
    const key = raw.replaceAll('~1', '/').replaceAll('~0', '~');
    if (Array.isArray(node)) {
      const index = Number(key);
      path.push(index);
      node = node[index];
    } else {
      path.push(key);
      node = isRecord(node) ? node[key] : undefined;
    }
  }
  return path;
}
