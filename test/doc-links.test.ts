import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..');
/** Where a comment or a document can point a reader; built and fetched folders are not ours. */
const SEARCHED = ['src', 'test', 'bench', 'scripts', 'policies', 'docs', '.ci', 'bin'];
const SKIPPED = new Set(['node_modules', 'dist', '.corpus', 'golden']);
const TEXT = /\.(?:ts|mjs|js|md|yaml|yml|json)$|^run$|^secrets$/;

function filesUnder(dir: string): string[] {
  if (!existsSync(dir)) return [];
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    if (SKIPPED.has(entry.name)) return [];
    const path = join(dir, entry.name);
    return entry.isDirectory() ? filesUnder(path) : TEXT.test(entry.name) ? [path] : [];
  });
}

/** Markdown links to a file: [text](target), not a web address or an anchor in the same page. */
const LINK = /\]\(([^)\s]+)\)/g;
/** A Markdown file or anything under docs/ named in prose or a comment: `docs/x.md`, `../CONTRIBUTING.md`. */
const NAMED = /(?<![\w./@-])((?:\.\.?\/)*(?:[\w-]+\/)*[\w.-]+\.md|(?:\.\.?\/)*docs\/[\w./-]*[\w-])(?![\w/-])/g;

/** In code only its comments point a reader somewhere; strings there are data (a fixture's `notes.md`). */
const COMMENT = /\/\*[\s\S]*?\*\/|(?<![:'"`\w])\/\/[^\n]*/g;

function readerTextOf(code: string): string {
  return [...code.matchAll(COMMENT)].map(([comment]) => comment).join('\n');
}

function readerText(file: string): string {
  const text = readFileSync(file, 'utf8');
  return /\.(?:ts|mjs|js)$/.test(file) ? readerTextOf(text) : text;
}

export function docReferences(text: string, isMarkdown: boolean): string[] {
  const found = new Set<string>();
  if (isMarkdown) {
    for (const [, target] of text.matchAll(LINK)) {
      if (/^(?:[a-z]+:|#)/i.test(target!)) continue;
      found.add(target!.replace(/#.*$/, ''));
    }
  }
  for (const [, path] of text.matchAll(NAMED)) found.add(path!);
  return [...found].filter(Boolean);
}

function exists(reference: string, file: string): boolean {
  // A reference names a path from the repository root ("docs/x.md" in a comment) or from the
  // file's own folder (a Markdown link, "../CONTRIBUTING.md").
  return existsSync(resolve(ROOT, reference)) || existsSync(resolve(dirname(file), reference));
}

describe('documents the code and the docs point at', () => {
  it('finds references the way a reader would follow them, in comments only in code', () => {
    expect(readerTextOf('const fixture = "notes.md"; // see docs/a.md\n/* and B.md */')).toBe(
      '// see docs/a.md\n/* and B.md */',
    );
    expect(
      docReferences('see [the guide](../CONTRIBUTING.md#tests), docs/architecture.md and https://x.org/a.md', true),
    ).toEqual(['../CONTRIBUTING.md', 'docs/architecture.md']);
    expect(docReferences('// (docs/adding-a-kind.md) and STYLE.md', false)).toEqual([
      'docs/adding-a-kind.md',
      'STYLE.md',
    ]);
  });

  const files = [
    ...readdirSync(ROOT)
      .filter((name) => name.endsWith('.md'))
      .map((name) => join(ROOT, name)),
    ...SEARCHED.flatMap((dir) => filesUnder(join(ROOT, dir))),
  ].filter((file) => file !== fileURLToPath(import.meta.url));

  it('searches the repository', () => {
    expect(files.map((file) => relative(ROOT, file))).toEqual(
      expect.arrayContaining(['README.md', 'CONTRIBUTING.md', 'docs/architecture.md', 'src/services/rotate.ts']),
    );
  });

  it('every docs/… and *.md path named in a comment or a document exists', () => {
    const missing: string[] = [];
    for (const file of files) {
      for (const reference of docReferences(readerText(file), file.endsWith('.md'))) {
        if (!exists(reference, file)) missing.push(`${relative(ROOT, file)}: ${reference}`);
      }
    }
    expect(missing).toEqual([]);
  });
});
