import { spawnSync } from 'node:child_process';
import { readdirSync, statSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { TestProject } from 'vitest/node';

/**
 * Vitest global setup: the end-to-end tests run the built CLI (bin/secrets → dist/), so a run
 * right after an edit (`npx vitest run test/e2e/x.test.ts`) must not test the previous build.
 * Builds when any input is newer than the bundle; after `npm run build` nothing is rebuilt.
 */
const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
const BUNDLE_ENTRY = join('dist', 'cli-bundle', 'main.js');
const INPUTS = [
  'src',
  'scripts/bundle.mjs',
  'package.json',
  'package-lock.json',
  'tsconfig.json',
  'tsconfig.build.json',
];

function newestMtime(path: string): number {
  let stat;
  try {
    stat = statSync(path);
  } catch {
    return 0;
  }
  if (!stat.isDirectory()) return stat.mtimeMs;
  let newest = stat.mtimeMs; // a deleted file shows only as a newer folder
  for (const name of readdirSync(path)) newest = Math.max(newest, newestMtime(join(path, name)));
  return newest;
}

/** Whether any input under `base` (the repository root) is newer than its built bundle. */
export function buildIsStale(base = root): boolean {
  let built: number;
  try {
    built = statSync(join(base, BUNDLE_ENTRY)).mtimeMs;
  } catch {
    return true;
  }
  return INPUTS.some((input) => newestMtime(join(base, input)) > built);
}

function buildIfStale(): void {
  if (!buildIsStale()) return;
  const result = spawnSync('npm', ['run', 'build'], { cwd: root, encoding: 'utf8' });
  if (result.status !== 0) {
    throw new Error(`npm run build failed before the tests (exit ${result.status}):\n${result.stdout}${result.stderr}`);
  }
}

export default function setup(project: TestProject): void {
  buildIfStale();
  // In watch mode the setup runs once; an edit that reruns the tests must rebuild too.
  project.onTestsRerun(() => buildIfStale());
}
