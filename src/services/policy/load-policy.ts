import { dirname, isAbsolute, join, relative } from 'node:path';
import { SecretsError, errnoCode } from '../../core/errors.js';
import type { Policy } from '../../core/policy.js';
import { parsePolicy } from '../../kinds/index.js';
import type { Deps } from '../deps.js';

export const DEFAULT_POLICY_FILE = 'secrets.yaml';

/** The policy path from --policy, then $SECRETS_POLICY, then ./secrets.yaml. */
export function policyPathFrom(option: string | undefined, deps: Pick<Deps, 'env' | 'cwd'>): string {
  const chosen = option ?? deps.env.SECRETS_POLICY ?? DEFAULT_POLICY_FILE;
  return isAbsolute(chosen) ? chosen : join(deps.cwd, chosen);
}

/**
 * Without --policy or $SECRETS_POLICY: secrets.yaml in the current folder or the nearest parent,
 * up to the repository root (a folder holding .git) or the filesystem root, so a command run from
 * `mt5-crs/app` finds `mt5-crs/secrets.yaml`. `searchedUpTo` is where the search stopped, for the
 * message when there is none.
 */
export async function findPolicyPath(
  option: string | undefined,
  deps: Pick<Deps, 'env' | 'cwd' | 'files'>,
): Promise<{ path: string; found: boolean; searchedUpTo?: string }> {
  if (option !== undefined || deps.env.SECRETS_POLICY !== undefined)
    return { path: policyPathFrom(option, deps), found: true };
  for (let dir = deps.cwd; ; dir = dirname(dir)) {
    const candidate = join(dir, DEFAULT_POLICY_FILE);
    if (await deps.files.stat(candidate)) return { path: candidate, found: true };
    if ((await deps.files.stat(join(dir, '.git'))) || dirname(dir) === dir)
      return { path: join(deps.cwd, DEFAULT_POLICY_FILE), found: false, searchedUpTo: dir };
  }
}

export async function loadPolicy(path: string, deps: Pick<Deps, 'files' | 'cwd'>): Promise<Policy> {
  let text: string;
  try {
    text = await deps.files.readText(path);
  } catch (error) {
    const code = errnoCode(error);
    const reason =
      code === 'ENOENT'
        ? 'no policy file here'
        : code === 'EACCES'
          ? 'cannot read the policy file (permission denied)'
          : `cannot read the policy file (${code ?? String(error)})`;
    throw new SecretsError('policy-missing', reason, {
      where: path,
      hint: code === 'ENOENT' ? 'pass --policy FILE, set SECRETS_POLICY, or create one with `secrets init`' : undefined,
    });
  }
  const shown = relative(deps.cwd, path);
  return parsePolicy(text, path, shown.startsWith('..') ? path : shown);
}
