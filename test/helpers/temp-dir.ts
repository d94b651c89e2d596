import { mkdtempSync, rmSync, mkdirSync, writeFileSync, chmodSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { afterEach } from 'vitest';

const made: string[] = [];

/** A temp folder removed after the current test. */
export function tempDir(prefix = 'secrets-test-'): string {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  made.push(dir);
  return dir;
}

afterEach(() => {
  for (const dir of made.splice(0)) rmSync(dir, { recursive: true, force: true });
});

export type FileSpec = string | Uint8Array | { content: string | Uint8Array; mode?: number };

/** Writes an object of relative paths → contents (with optional modes) under `root`. */
export function writeTree(root: string, files: Record<string, FileSpec>): void {
  for (const [path, spec] of Object.entries(files)) {
    const full = join(root, path);
    mkdirSync(dirname(full), { recursive: true });
    const content = typeof spec === 'string' || spec instanceof Uint8Array ? spec : spec.content;
    writeFileSync(full, content);
    const mode = typeof spec === 'string' || spec instanceof Uint8Array ? 0o600 : (spec.mode ?? 0o600);
    chmodSync(full, mode);
  }
}
