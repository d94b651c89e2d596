import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { SecretsError, errorCatalogue, isSecretsError, type ErrorCode } from '../../src/core/errors.js';
import { renderErrorDocs } from '../../src/report/error-docs.js';

const ROOT = join(__dirname, '..', '..');
const CATALOGUE_FILE = join('src', 'core', 'error-catalogue.ts');

function sourceFiles(dir: string): string[] {
  return readdirSync(join(ROOT, dir), { withFileTypes: true }).flatMap((entry) =>
    entry.isDirectory()
      ? sourceFiles(join(dir, entry.name))
      : entry.name.endsWith('.ts')
        ? [join(dir, entry.name)]
        : [],
  );
}

const sources = sourceFiles('src')
  .filter((file) => file !== CATALOGUE_FILE)
  .map((file) => ({ file, text: readFileSync(join(ROOT, file), 'utf8') }));

/** Codes at throw sites and comparisons: new SecretsError('x', …), failed('x', …), isSecretsError(e, 'x'), .code === 'x'. */
function codesUsedIn(text: string): string[] {
  const patterns = [
    /\bSecretsError\(\s*'([^']+)'/g,
    /\bRotateFailedError\(\s*\w+,\s*'([^']+)'/g,
    /\bfailed\(\s*'([^']+)'/g,
    /\bisSecretsError\(\s*\w+,\s*'([^']+)'/g,
    /\berror\.code\s*[!=]==\s*'([^']+)'/g,
  ];
  return patterns.flatMap((pattern) => [...text.matchAll(pattern)].map((match) => match[1]!));
}

describe('the error catalogue', () => {
  it('holds every code thrown or compared in src/', () => {
    const unknown = sources.flatMap(({ file, text }) =>
      codesUsedIn(text)
        .filter((code) => !(code in errorCatalogue))
        .map((code) => `${file}: ${code}`),
    );
    expect(unknown).toEqual([]);
    // The scan itself must see the throw sites, or the assertion above proves nothing.
    expect(new Set(sources.flatMap(({ text }) => codesUsedIn(text))).size).toBeGreaterThan(90);
  });

  it('has no entry that src/ never uses', () => {
    const all = sources.map(({ text }) => text).join('\n');
    const unused = Object.keys(errorCatalogue).filter((code) => !all.includes(`'${code}'`));
    expect(unused).toEqual([]);
  });

  it('gives every code an exit code of 3 or 4 and one line of meaning', () => {
    for (const [code, entry] of Object.entries(errorCatalogue)) {
      expect(code).toMatch(/^[a-z][a-z0-9]*(-[a-z0-9]+)*$/);
      expect([3, 4]).toContain(entry.exit);
      expect(entry.meaning, code).toMatch(/^[A-Za-z].*\.$/);
      expect(entry.meaning, code).not.toContain('\n');
    }
  });

  it('docs/errors.md is the table generated from it (npm run docs:errors)', () => {
    expect(readFileSync(join(ROOT, 'docs', 'errors.md'), 'utf8')).toBe(renderErrorDocs());
  });

  it('lists every code in docs/errors.md with its exit code', () => {
    const docs = renderErrorDocs();
    for (const [code, entry] of Object.entries(errorCatalogue))
      expect(docs).toContain(`| \`${code}\` | ${entry.exit} |`);
  });
});

describe('SecretsError', () => {
  it('takes its exit code from the catalogue', () => {
    expect(new SecretsError('env-syntax', 'cannot read this line').exitCode).toBe(3);
    expect(new SecretsError('journal-corrupt', 'unreadable').exitCode).toBe(4);
    expect(new SecretsError('rollback-failed', 'x', { exitCode: 4 }).exitCode).toBe(4);
  });

  it('prints its code first, then the place, the message and the hint', () => {
    const error = new SecretsError('env-syntax', 'cannot read this line as KEY=value', {
      where: '.env:4',
      hint: 'quote the value',
    });
    expect(error.toLine()).toBe('[env-syntax] .env:4: cannot read this line as KEY=value (quote the value)');
    expect(error.describe()).toBe('.env:4: cannot read this line as KEY=value (quote the value)');
  });

  it('isSecretsError with a code narrows to that code only', () => {
    const error: unknown = new SecretsError('locked', 'held by another run');
    expect(isSecretsError(error)).toBe(true);
    expect(isSecretsError(error, 'locked')).toBe(true);
    expect(isSecretsError(error, 'cancelled')).toBe(false);
    expect(isSecretsError(new Error('plain'), 'locked')).toBe(false);
    if (isSecretsError(error, 'locked')) {
      const code: 'locked' = error.code;
      expect(code).toBe('locked');
    }
  });

  it('refuses, at typecheck, a code not in the catalogue and an exit code the catalogue does not give', () => {
    // These lines are the test: `npm run typecheck` fails if any of them stops being an error.
    // @ts-expect-error a typo'd code
    const typo = () => new SecretsError('env-sintax', 'x');
    // @ts-expect-error env-syntax is exit 3 in the catalogue: exit 4 would need another code
    const wrongExit = () => new SecretsError('env-syntax', 'x', { exitCode: 4 });
    // @ts-expect-error a typo'd code in a comparison
    const compare = (value: unknown) => isSecretsError(value, 'lockd');
    const codes: ErrorCode[] = ['env-syntax', 'locked'];
    expect([typo, wrongExit, compare, codes].length).toBe(4);
  });
});
