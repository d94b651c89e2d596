import { join, resolve } from 'node:path';
import type { FileStore } from '../../core/ports.js';
import { SecretsError } from '../../core/errors.js';
import type { ScanSources } from '../../core/scan/ports.js';

/** The line that marks a pre-commit hook as ours, so a re-install may replace it. */
export const HOOK_MARKER = '# installed by: secrets scan --install-hook';

export const HOOK_SCRIPT = `#!/bin/sh
${HOOK_MARKER}
# Stops a commit that adds a secret. Accept a finding with an inline "secrets:allow"
# comment or a baseline; skip once with git commit --no-verify.
if command -v secrets >/dev/null 2>&1; then
  exec secrets scan --staged
fi
exec npx --no-install secrets scan --staged
`;

export interface InstallHookOutcome {
  path: string;
  replaced: boolean;
}

/** Writes the pre-commit hook; refuses to overwrite a hook that someone else wrote. */
export async function installScanHook(
  input: { cwd: string },
  deps: { sources: ScanSources; files: FileStore },
): Promise<InstallHookOutcome> {
  const cwd = resolve(input.cwd);
  const root = await deps.sources.gitRoot(cwd);
  if (!root) throw new SecretsError('not-a-repository', '--install-hook needs a git repository', { where: cwd });
  const dir = await deps.sources.hooksDir(root);
  const path = join(dir, 'pre-commit');
  const existing = await deps.files.readTextIfExists(path);
  if (existing !== undefined && !existing.includes(HOOK_MARKER)) {
    throw new SecretsError(
      'hook-exists',
      'a pre-commit hook that secrets did not write is already there; it was left alone',
      {
        where: path,
        hint: 'add the line "secrets scan --staged" to it yourself',
      },
    );
  }
  await deps.files.ensureDir(dir, 0o755);
  await deps.files.writeAtomic(path, HOOK_SCRIPT, { mode: 0o755 });
  return { path, replaced: existing !== undefined };
}
