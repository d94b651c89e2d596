import { join } from 'node:path';
import { stringify } from 'yaml';
import { tempDir, writeTree, type FileSpec } from './temp-dir.js';

export interface TempDeployment {
  root: string;
  policyPath: string;
  path(relative: string): string;
}

/**
 * A throwaway deployment: files under a temp root and a policy file `secrets.yaml` beside them
 * (root: "."), state in `.secrets/`. `policy` is merged over a minimal valid policy.
 */
export function makeDeployment(
  options: { files?: Record<string, FileSpec>; policy?: Record<string, unknown> | string } = {},
): TempDeployment {
  const root = tempDir('secrets-deploy-');
  writeTree(root, options.files ?? {});
  const policyText =
    typeof options.policy === 'string'
      ? options.policy
      : stringify({
          version: 1,
          deployment: 'test-deploy',
          root: '.',
          env_file: '.env',
          secrets: {},
          ...(options.policy ?? {}),
        });
  const policyPath = join(root, 'secrets.yaml');
  writeTree(root, { 'secrets.yaml': { content: policyText, mode: 0o644 } });
  return { root, policyPath, path: (relative) => join(root, relative) };
}
