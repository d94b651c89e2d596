import { join, relative } from 'node:path';
import { replacementsText } from '../../core/filter-repo.js';
import type { Policy } from '../../core/policy.js';
import type { Finding } from '../../core/scan/types.js';
import type { Deps } from '../deps.js';
import { runScan } from '../scan.js';

export interface PastLeak {
  file: string;
  line: number;
  commit?: string;
  /** "value before 2026-03-01" */
  description: string;
}

/** Where past values of one secret appear: the working tree and every commit, by fingerprint. */
export async function findPastLeaks(
  policy: Policy,
  id: string,
  deps: Deps,
): Promise<{ leaks: PastLeak[]; values: string[]; git: boolean }> {
  if (!deps.scanSources) return { leaks: [], values: [], git: false };
  const sources = await deps.scanSources();
  const scanDeps = { sources, files: deps.files, rules: [] };
  const git = (await sources.gitRoot(policy.root)) !== undefined;
  const base = { cwd: policy.root, policy, skipValueHomes: true, pastValues: { only: id } } as const;
  const findings: Finding[] = [...(await runScan({ ...base, mode: 'tree' }, scanDeps)).findings];
  if (git) findings.push(...(await runScan({ ...base, mode: 'history' }, scanDeps)).findings);
  const past = findings.filter((finding) => finding.ruleId === `managed-past:${id}`);
  return {
    leaks: past.map((finding) => ({
      file: finding.file,
      line: finding.line,
      ...(finding.commit ? { commit: finding.commit } : {}),
      description: finding.description,
    })),
    values: [...new Set(past.map((finding) => finding.secret.reveal()))],
    git,
  };
}

export function describePastLeak(leak: PastLeak): string {
  const where = leak.commit
    ? `commit ${leak.commit.slice(0, 12)}  ${leak.file}:${leak.line}`
    : `working tree  ${leak.file}:${leak.line}`;
  return `${where}  ${leak.description}`;
}

export interface RevokePastOutcome {
  secret: string;
  past: PastLeak[];
  replacementsFile?: string;
  /** 0 no past value found · 1 found: purge it (the live secret was not touched). */
  exitCode: 0 | 1;
}

/**
 * `secrets revoke --past ID`: a value the secret had before its last rotation leaked. It is dead
 * already (the rotation replaced it), so the live secret is left alone; what remains is to purge
 * it: the places it is found and one git filter-repo --replace-text file.
 */
export async function runRevokePast(input: { policy: Policy; id: string }, deps: Deps): Promise<RevokePastOutcome> {
  const { policy, id } = input;
  const say = (line: string) => deps.output.out(`${line}\n`);
  say(`${id}: searching the working tree and the history for its past values (the current value is not touched)`);
  const found = await findPastLeaks(policy, id, deps);
  if (found.leaks.length === 0) {
    say(`no past value of ${id} was found`);
    return { secret: id, past: [], exitCode: 0 };
  }
  say(`a past value of ${id} was found ${found.leaks.length} time(s):`);
  for (const leak of found.leaks) say(`  ${describePastLeak(leak)}`);
  const stamp = deps.clock
    .now()
    .toISOString()
    .replace(/[-:]/g, '')
    .replace(/\.\d+Z$/, 'Z');
  await deps.files.ensureDir(policy.stateDir, 0o700);
  const path = join(policy.stateDir, `revoke-${id}-past-${stamp}.replacements`);
  await deps.files.writeAtomic(path, replacementsText(found.values), { mode: 0o600 });
  say(`replacements for git filter-repo: ${path}`);
  say('  it holds the old value itself (mode 600, in the 700 state folder): delete it once the purge is done');
  if (found.git)
    say(`to purge the history (in a fresh clone): git filter-repo --replace-text ${relative(policy.root, path)}`);
  return { secret: id, past: found.leaks, replacementsFile: path, exitCode: 1 };
}
