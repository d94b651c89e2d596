import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { expect } from 'vitest';

/**
 * Compares output with a reviewed golden file. A missing golden file is written outside CI
 * (for review before commit) and fails under CI=true: it is never made up there.
 */
export function expectGolden(actual: string, path: string): void {
  if (!existsSync(path)) {
    if (process.env.CI === 'true' || process.env.CI === '1') {
      throw new Error(`golden file missing: ${path} (run the tests locally, review the file, commit it)`);
    }
    mkdirSync(dirname(path), { recursive: true });
    writeFileSync(path, actual);
    return;
  }
  expect(actual).toBe(readFileSync(path, 'utf8'));
}
