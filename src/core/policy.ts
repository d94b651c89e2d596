import { isAbsolute, join, dirname, resolve } from 'node:path';
import { LineCounter, parseDocument, isMap, isPair, isScalar, type Node as YamlNode, type Document } from 'yaml';
import type * as z from 'zod/mini';
import { SecretsError } from './errors.js';
import type { PolicyDocument, SecretSpec } from './policy-schema.js';

/** A validated policy with every path made absolute. Pure: the caller reads the file. */
export interface Policy {
  /** Absolute path of the policy file. */
  path: string;
  doc: PolicyDocument;
  deployment: string;
  root: string;
  envFile: string;
  stateDir: string;
  backupDir: string;
  secrets: Array<{ id: string; spec: SecretSpec }>;
}

/** Resolves a policy path: absolute stays, relative is against the deployment root. */
export function resolveIn(root: string, path: string): string {
  return isAbsolute(path) ? path : join(root, path);
}

export function findSecret(policy: Policy, id: string): SecretSpec {
  const found = policy.secrets.find((secret) => secret.id === id);
  if (!found) {
    const known = policy.secrets.map((secret) => secret.id).join(', ') || 'none';
    throw new SecretsError('unknown-secret', `no secret "${id}" in the policy (known: ${known})`, {
      where: policy.path,
    });
  }
  return found.spec;
}

/** The policy's schema as built by the kinds' registry (src/kinds/index.ts: policySchema). */
export type PolicySchema = z.ZodMiniType<PolicyDocument> & { shape: Record<string, unknown> };

/**
 * Parses and validates policy text against `schema`. Every error names file:line:col, the field path and what
 * was expected, e.g. `secrets.yaml:14:5: secrets.dingtalk.rotate_every: expected a duration like 90d, got "ninety"`.
 * Callers use parsePolicy (src/kinds/index.ts), which hands in the schema of every kind.
 */
export function parsePolicyWith(schema: PolicySchema, text: string, path: string, displayPath = path): Policy {
  const lineCounter = new LineCounter();
  const document = parseDocument(text, { lineCounter, prettyErrors: false, uniqueKeys: true });
  if (document.errors.length > 0) {
    const first = document.errors[0]!;
    const position = lineCounter.linePos(first.pos[0]);
    const reason = first.message.split('\n')[0]!.replace(/ at line \d+, column \d+:?$/, '');
    throw new SecretsError('policy-yaml', `not valid YAML: ${reason}`, {
      where: `${displayPath}:${position.line}:${position.col}`,
    });
  }
  let data: unknown;
  try {
    // yaml refuses a document whose aliases expand beyond its limit (a "billion laughs" bomb).
    data = document.toJS({ maxAliasCount: 100 });
  } catch (error) {
    const alias = /(^|[\s\[{,:-])\*[^\s,\]}]+/m.exec(text);
    const line = alias ? text.slice(0, alias.index + alias[1]!.length).split('\n').length : 1;
    throw new SecretsError(
      'policy-yaml',
      `not valid YAML: ${error instanceof Error ? error.message.split('\n')[0] : 'cannot be read'} (too many aliases)`,
      { where: `${displayPath}:${line}:1` },
    );
  }
  if (data === null || typeof data !== 'object' || Array.isArray(data)) {
    throw new SecretsError('policy-invalid', 'expected a mapping with version, deployment and secrets', {
      where: `${displayPath}:1:1`,
    });
  }
  const result = schema.safeParse(data, { reportInput: true });
  if (!result.success) {
    const { issue, suggestion } = pickIssue(result.error.issues, Object.keys(schema.shape));
    const position = locate(document, lineCounter, issue);
    const field = issue.path.map(String).join('.') || '(top level)';
    throw new SecretsError('policy-invalid', `${field}: ${describeIssue(issue, suggestion)}`, {
      where: `${displayPath}:${position.line}:${position.col}`,
    });
  }
  return resolvePolicy(result.data, resolve(path));
}

function resolvePolicy(doc: PolicyDocument, absolutePath: string): Policy {
  const policyDir = dirname(absolutePath);
  const root = resolveIn(policyDir, doc.root);
  const stateDir = doc.state_dir ? resolveIn(root, doc.state_dir) : join(policyDir, '.secrets');
  return {
    path: absolutePath,
    doc,
    deployment: doc.deployment,
    root,
    envFile: resolveIn(root, doc.env_file),
    stateDir,
    backupDir: resolveIn(root, doc.backup.dir),
    secrets: Object.entries(doc.secrets).map(([id, spec]) => ({ id, spec })),
  };
}

type Issue = z.core.$ZodIssue;

/**
 * The issue worth showing first: an unknown field (a typo explains the "missing" field beside
 * it), else the deepest one inside a union (the real cause), else the first. For an unknown
 * field, the field it probably meant: the required one missing beside it, or at the top level
 * the closest known name.
 */
function pickIssue(issues: Issue[], topLevel: string[]): { issue: Issue; suggestion?: string } {
  const unknown = issues.find((issue) => issue.code === 'unrecognized_keys');
  if (unknown && unknown.code === 'unrecognized_keys') {
    const missing = issues.find(
      (issue) =>
        issue.code === 'invalid_type' &&
        !('input' in issue && issue.input !== undefined) &&
        issue.path.length === unknown.path.length + 1 &&
        unknown.path.every((part, index) => issue.path[index] === part),
    );
    const suggestion = missing
      ? String(missing.path[missing.path.length - 1])
      : unknown.path.length === 0 && unknown.keys.length === 1
        ? closestName(unknown.keys[0]!, topLevel)
        : undefined;
    return suggestion ? { issue: unknown, suggestion } : { issue: unknown };
  }
  const first = issues[0]!;
  if (first.code === 'invalid_union' && 'discriminator' in first && typeof first.discriminator === 'string') {
    const input = (first as { input?: unknown }).input;
    const value =
      input && typeof input === 'object' ? (input as Record<string, unknown>)[first.discriminator] : undefined;
    const path =
      first.path[first.path.length - 1] === first.discriminator ? first.path : [...first.path, first.discriminator];
    return { issue: { ...first, path, input: value ?? input } as Issue };
  }
  if (first.code === 'invalid_union' && 'errors' in first && first.errors.length > 0) {
    const nested = first.errors.flat();
    if (nested.length > 0) {
      const inner = pickIssue(nested, topLevel);
      return { ...inner, issue: { ...inner.issue, path: [...first.path, ...inner.issue.path] } as Issue };
    }
  }
  return { issue: first };
}

/** The known name within two edits of a typo (notfy → notify), if exactly one is that close. */
function closestName(typo: string, known: string[]): string | undefined {
  const near = known.filter((name) => editDistance(typo.toLowerCase(), name) <= 2);
  return near.length === 1 ? near[0] : undefined;
}

function editDistance(a: string, b: string): number {
  let previous = Array.from({ length: b.length + 1 }, (_, index) => index);
  for (let i = 1; i <= a.length; i++) {
    const current = [i];
    for (let j = 1; j <= b.length; j++)
      current[j] = Math.min(previous[j]! + 1, current[j - 1]! + 1, previous[j - 1]! + (a[i - 1] === b[j - 1] ? 0 : 1));
    previous = current;
  }
  return previous[b.length]!;
}

function describeValue(value: unknown): string {
  if (value === undefined) return 'nothing';
  if (value === null) return 'null';
  if (typeof value === 'string') return JSON.stringify(value.length > 60 ? `${value.slice(0, 57)}...` : value);
  if (Array.isArray(value)) return 'a list';
  if (typeof value === 'object') return 'a mapping';
  return String(value);
}

function describeIssue(issue: Issue, suggestion?: string): string {
  const input = 'input' in issue ? (issue as { input?: unknown }).input : undefined;
  switch (issue.code) {
    case 'invalid_type': {
      if (input === undefined) return `is required (expected ${issue.expected})`;
      const expected =
        issue.expected === 'object' ? 'a mapping' : issue.expected === 'array' ? 'a list' : `a ${issue.expected}`;
      return `expected ${expected}, got ${describeValue(input)}`;
    }
    case 'unrecognized_keys': {
      const fields = `unknown field${issue.keys.length > 1 ? 's' : ''} ${issue.keys.map((key) => `"${key}"`).join(', ')}`;
      // Never zod's own message: at the top level it is "Invalid input", no field name at all.
      return suggestion
        ? `${fields} (did you mean "${suggestion}"?)`
        : `${fields} (check the spelling against policies/schema.json)`;
    }
    case 'invalid_value':
      return `expected ${issue.values.map((value) => JSON.stringify(value)).join(' or ')}, got ${describeValue(input)}`;
    case 'too_small':
      if (issue.origin === 'array') return `expected at least ${String(issue.minimum)} item(s)`;
      if (issue.origin === 'string')
        return `expected at least ${String(issue.minimum)} character(s), got ${describeValue(input)}`;
      return `expected at least ${String(issue.minimum)}, got ${describeValue(input)}`;
    case 'too_big':
      return `expected at most ${String(issue.maximum)}, got ${describeValue(input)}`;
    case 'invalid_union':
      return `${issue.message}, got ${describeValue(input)}`;
    case 'custom':
      // A refinement of one value carries it; a cross-field rule (superRefine) does not.
      return input === undefined || typeof input === 'object'
        ? issue.message
        : `${issue.message}, got ${describeValue(input)}`;
    default: {
      const message = issue.message.startsWith('expected')
        ? issue.message
        : `expected ${issue.message.replace(/^Invalid (input: )?/i, '')}`;
      return input === undefined ? message : `${message}, got ${describeValue(input)}`;
    }
  }
}

/** Finds the YAML node an issue points at (or the closest existing parent) and its line:col. */
function locate(document: Document, lineCounter: LineCounter, issue: Issue): { line: number; col: number } {
  const path = issue.path.map((part) => (typeof part === 'symbol' ? String(part) : part));
  let node: unknown = document.contents;
  let offset = 0;
  const setOffset = (candidate: unknown) => {
    const range = (candidate as YamlNode | undefined)?.range;
    if (range) offset = range[0];
  };
  setOffset(node);
  for (const key of path) {
    if (!isMap(node) && !(node && typeof node === 'object' && 'items' in node)) break;
    const items = (node as { items: unknown[] }).items;
    let next: unknown;
    if (isMap(node)) {
      const pair = node.items.find(
        (item) => isPair(item) && isScalar(item.key) && String(item.key.value) === String(key),
      );
      if (!pair) break;
      setOffset(pair.key);
      next = pair.value;
    } else if (typeof key === 'number') {
      next = items[key];
    }
    if (next === undefined || next === null) break;
    setOffset(next);
    node = next;
  }
  if (issue.code === 'unrecognized_keys' && isMap(node)) {
    const pair = node.items.find(
      (item) => isPair(item) && isScalar(item.key) && String(item.key.value) === issue.keys[0],
    );
    if (pair) setOffset(pair.key);
  }
  return lineCounter.linePos(offset);
}
