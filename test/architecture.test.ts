import { readdirSync, readFileSync } from 'node:fs';
import { join, relative, dirname, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';

const SRC = resolve(__dirname, '..', 'src');

function sourceFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const path = join(dir, entry.name);
    return entry.isDirectory() ? sourceFiles(path) : entry.name.endsWith('.ts') ? [path] : [];
  });
}

function layerOf(path: string): string {
  const rel = relative(SRC, path);
  return rel.includes('/') ? rel.split('/')[0]! : rel;
}

/** Which layers each layer may import (docs/architecture.md: cli → services → kinds → core; adapters implement core). */
const ALLOWED: Record<string, string[]> = {
  core: ['core'],
  report: ['report', 'core'],
  kinds: ['kinds', 'core'],
  services: ['services', 'kinds', 'core'],
  adapters: ['adapters', 'core'],
  cli: ['cli', 'services', 'kinds', 'core', 'report', 'adapters'],
  'index.ts': ['services', 'kinds', 'core', 'report'],
};

/** The kinds of secret: one folder each under src/kinds/ (docs/adding-a-kind.md). */
function kindNames(): string[] {
  const dir = join(SRC, 'kinds');
  let entries: string[] = [];
  try {
    entries = readdirSync(dir, { withFileTypes: true })
      .filter((entry) => entry.isDirectory())
      .map((entry) => entry.name);
  } catch {
    // No src/kinds yet: the kinds the policy has always known, so the rule still bites.
  }
  return entries.length > 0 ? entries : ['htpasswd', 'dingtalk', 'random', 'manual'];
}

/**
 * A branch on a kind: `spec.kind === 'htpasswd'`, `'manual' !== kind`, `case 'random':`, or a
 * table looked up by kind (`cut[spec.kind]`). Outside src/kinds/ each of these is a kind's logic
 * living in the wrong place: it belongs behind a hook of the kind's own folder.
 */
function kindBranches(text: string, names: string[]): string[] {
  const name = `['"\`](?:${names.join('|')})['"\`]`;
  const patterns = [
    new RegExp(`\\bkind\\s*[!=]==?\\s*${name}`, 'g'),
    new RegExp(`${name}\\s*[!=]==?\\s*[\\w.?]*\\bkind\\b`, 'g'),
    new RegExp(`\\bcase\\s+${name}\\s*:`, 'g'),
    /\[\s*[\w.?]*\.kind\s*\]/g,
  ];
  return patterns.flatMap((pattern) => [...text.matchAll(pattern)].map((match) => match[0]));
}

/** Node built-ins core must not touch: no file, network or process. */
const CORE_FORBIDDEN = [
  'node:fs',
  'node:child_process',
  'node:net',
  'node:http',
  'node:https',
  'fs',
  'child_process',
  'undici',
  'simple-git',
  'openpgp',
  '@inquirer/prompts',
];

describe('architecture', () => {
  const files = sourceFiles(SRC);
  it('finds the source files', () => {
    expect(files.length).toBeGreaterThan(10);
  });
  for (const file of files) {
    const text = readFileSync(file, 'utf8');
    const imports = [
      ...text.matchAll(/(?:import|export)\s[^'"]*?from\s+['"]([^'"]+)['"]|import\(\s*['"]([^'"]+)['"]\s*\)/g),
    ].map((match) => match[1] ?? match[2]!);
    it(`${relative(SRC, file)} imports only what its layer may`, () => {
      const layer = layerOf(file);
      for (const spec of imports) {
        if (spec.startsWith('.')) {
          const target = layerOf(resolve(dirname(file), spec));
          expect(ALLOWED[layer], `${relative(SRC, file)} imports ${spec}`).toContain(target);
        } else if (layer === 'core' || layer === 'kinds') {
          // A kind reaches files, processes and the network only through the ports it is handed.
          expect(CORE_FORBIDDEN, `${layer} file ${relative(SRC, file)} imports ${spec}`).not.toContain(spec);
        }
      }
    });
  }
  it('no file outside src/kinds/ branches on a kind', () => {
    const names = kindNames();
    const outside = files.filter((path) => layerOf(path) !== 'kinds');
    const found = outside.flatMap((path) =>
      kindBranches(readFileSync(path, 'utf8'), names).map((branch) => `${relative(SRC, path)}: ${branch}`),
    );
    expect(found).toEqual([]);
  });
  it('the kind-branch rule catches each form of branch', () => {
    const names = ['htpasswd', 'manual'];
    expect(kindBranches("if (spec.kind === 'htpasswd') x();", names)).toHaveLength(1);
    expect(kindBranches("if ('manual' !== item.spec.kind) x();", names)).toHaveLength(1);
    expect(kindBranches("switch (spec.kind) {\n  case 'manual':", names)).toHaveLength(1);
    expect(kindBranches('const text = table[spec.kind];', names)).toHaveLength(1);
    expect(kindBranches("if (change.kind === 'identical') x();", names)).toEqual([]);
  });
  it('services never import adapters', () => {
    for (const file of files.filter((path) => layerOf(path) === 'services')) {
      expect(readFileSync(file, 'utf8'), file).not.toMatch(/from\s+['"]\.\.\/adapters\//);
    }
  });
});
