import { join, resolve } from 'node:path';
import { ExitCode, SecretsError, type ExitCodeValue } from '../core/errors.js';
import type { Policy } from '../core/policy.js';
import { isNeverSwept, type HostTree, type StrayCopy, type SweepSkipped } from '../core/sweep.js';
import type { Deps } from './deps.js';
import { managedValueHomes, readManagedValues } from './policy/managed-values.js';
import { pastValuesMatcher } from './state/past-values.js';

export const DEFAULT_SWEEP_ROOTS = ['/tmp', '/home', '/root', '/var/tmp'];
export const DEFAULT_SWEEP_MAX_FILE_SIZE = 5 * 1024 * 1024;

export interface SweepInput {
  policy: Policy;
  /** Default: the deployment root and DEFAULT_SWEEP_ROOTS. */
  paths?: string[];
  /** Enter other filesystems than the one each root lives on. */
  allFilesystems?: boolean;
  maxFileSize?: number;
  /** Stop after reading this many files (check's bounded sweep). */
  maxFiles?: number;
  /** Folder names never entered (check skips .git: git objects are compressed, the leaked-value check reads them). */
  skipNames?: string[];
}

export interface SweepOutcome {
  roots: string[];
  found: StrayCopy[];
  filesRead: number;
  skipped: SweepSkipped;
  /** 0 nothing found · 1 only past values · 2 a current value has a stray copy. */
  exitCode: ExitCodeValue;
}

/**
 * `secrets sweep`: files on the host holding a current or past value of a managed secret
 * (literally, and by keyed fingerprint for past values). The value homes themselves (.env, the
 * htpasswd file), the state folder and the backups are where values live by design, not strays.
 */
export async function runSweep(input: SweepInput, deps: Deps): Promise<SweepOutcome> {
  const { policy } = input;
  if (!deps.hostTree) throw new SecretsError('bad-option', 'sweep is not available here');
  const host: HostTree = await deps.hostTree();
  const current = (await readManagedValues(policy, deps)).filter((value) => value.value.length >= 6);
  const past = await pastValuesMatcher(policy.stateDir, deps);
  const homes = new Set([...managedValueHomes(policy), policy.stateDir, policy.backupDir].map((path) => resolve(path)));
  const roots = [
    ...new Set(
      (input.paths?.length ? input.paths : [policy.root, ...DEFAULT_SWEEP_ROOTS]).map((p) => resolve(deps.cwd, p)),
    ),
  ];
  const maxFileSize = input.maxFileSize ?? DEFAULT_SWEEP_MAX_FILE_SIZE;
  const skipped: SweepSkipped = { unreadable: 0, otherFilesystem: 0, special: 0, large: 0, truncated: false };
  const found: StrayCopy[] = [];
  const seen = new Set<string>();
  let filesRead = 0;
  const now = deps.clock.now();

  for (const root of roots) {
    const top = await host.lstat(root);
    if (!top) continue;
    const stack = [root];
    while (stack.length > 0) {
      const path = stack.pop()!;
      if (seen.has(path) || isNeverSwept(path) || homes.has(path)) continue;
      seen.add(path);
      const entry = await host.lstat(path);
      if (!entry || entry.type === 'symlink') continue;
      if (entry.dev !== top.dev && !input.allFilesystems) {
        skipped.otherFilesystem++;
        continue;
      }
      if (entry.type === 'special') {
        skipped.special++;
        continue;
      }
      if (entry.type === 'dir') {
        const names = await host.list(path);
        if (!names) skipped.unreadable++;
        else
          for (const name of names.sort().reverse()) if (!input.skipNames?.includes(name)) stack.push(join(path, name));
        continue;
      }
      if (entry.size > maxFileSize) {
        skipped.large++;
        continue;
      }
      if (input.maxFiles !== undefined && filesRead >= input.maxFiles) {
        skipped.truncated = true;
        stack.length = 0;
        break;
      }
      const bytes = await host.read(path);
      if (!bytes) {
        skipped.unreadable++;
        continue;
      }
      filesRead++;
      // latin1 keeps every byte: a value inside a binary swap file is still found.
      const text = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('latin1');
      const secrets = new Map<string, 'current' | 'past'>();
      for (const value of current) if (text.includes(value.value)) secrets.set(value.id, 'current');
      if (past)
        for (const hit of past({ text, file: path }))
          if (!secrets.has(hit.rule.id.slice('managed-past:'.length)))
            secrets.set(hit.rule.id.slice('managed-past:'.length), 'past');
      if (secrets.size === 0) continue;
      found.push({
        path,
        owner: await host.ownerName(entry.uid),
        mode: entry.mode.toString(8).padStart(3, '0'),
        modified: entry.mtime.toISOString(),
        ageDays: Math.max(0, Math.floor((now.getTime() - entry.mtime.getTime()) / 86_400_000)),
        secrets: [...secrets].map(([id, value]) => ({ id, value })),
      });
    }
  }
  const exitCode = found.some((copy) => copy.secrets.some((secret) => secret.value === 'current'))
    ? ExitCode.critical
    : found.length > 0
      ? ExitCode.warning
      : ExitCode.ok;
  return { roots, found: found.sort((a, b) => a.path.localeCompare(b.path)), filesRead, skipped, exitCode };
}

export function renderSweepText(outcome: SweepOutcome): string {
  const lines = outcome.found.map(
    (copy) =>
      `${copy.path}  ${copy.owner}  ${copy.mode}  ${copy.ageDays}d  ${copy.secrets.map((s) => `${s.id} (${s.value} value)`).join(', ')}`,
  );
  const { skipped } = outcome;
  lines.push(
    `${outcome.found.length} file(s) hold a managed value; ${outcome.filesRead} read in ${outcome.roots.join(', ')}; skipped: ${skipped.unreadable} unreadable, ${skipped.special} special (FIFO, socket, device), ${skipped.large} too large, ${skipped.otherFilesystem} on other filesystems${skipped.truncated ? '; stopped at the file limit' : ''}`,
  );
  return `${lines.join('\n')}\n`;
}
