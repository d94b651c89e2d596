import { utimesSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { tempDir, writeTree } from '../helpers/temp-dir.js';
import { buildIsStale } from './build.js';

function at(root: string, path: string, seconds: number): void {
  utimesSync(join(root, path), seconds, seconds);
}

describe('the build before the tests', () => {
  it('is needed when there is no bundle yet', () => {
    const root = tempDir();
    writeTree(root, { 'src/index.ts': 'export {};\n' });
    expect(buildIsStale(root)).toBe(true);
  });

  it('is skipped when the bundle is newer than every input, and needed after an edit', () => {
    const root = tempDir();
    writeTree(root, {
      'src/cli/main.ts': 'export {};\n',
      'package.json': '{}\n',
      'dist/cli-bundle/main.js': '',
    });
    for (const path of ['src/cli/main.ts', 'src/cli', 'src', 'package.json']) at(root, path, 1_000);
    at(root, 'dist/cli-bundle/main.js', 2_000);
    expect(buildIsStale(root)).toBe(false);

    at(root, 'src/cli/main.ts', 3_000);
    expect(buildIsStale(root)).toBe(true);
  });
});
