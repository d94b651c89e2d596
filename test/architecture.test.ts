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
  services: ['services', 'core'],
  adapters: ['adapters', 'core'],
  cli: ['cli', 'services', 'core', 'report', 'adapters'],
  'index.ts': ['services', 'core', 'report'],
};

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
        } else if (layer === 'core') {
          expect(CORE_FORBIDDEN, `core file ${relative(SRC, file)} imports ${spec}`).not.toContain(spec);
        }
      }
    });
  }
  it('services never import adapters', () => {
    for (const file of files.filter((path) => layerOf(path) === 'services')) {
      expect(readFileSync(file, 'utf8'), file).not.toMatch(/from\s+['"]\.\.\/adapters\//);
    }
  });
});
