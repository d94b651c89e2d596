import { createHash } from 'node:crypto';
import { join, relative } from 'node:path';
import { leakMessage } from '../../core/checks/compliance.js';
import type { Finding as CheckFinding } from '../../core/checks/types.js';
import { isSecretsError } from '../../core/errors.js';
import type { FileStore } from '../../core/ports.js';
import type { Policy } from '../../core/policy.js';
import type { ScanSources } from '../../core/scan/ports.js';
import type { Finding } from '../../core/scan/types.js';
import type { CheckInput } from '../check.js';
import type { Deps } from '../deps.js';
import { withStateLock } from '../state/state-lock.js';
import { readManagedValues } from '../policy/managed-values.js';
import { runScan } from '../scan.js';

/** The state file that makes the daily check incremental: which ref tips were already searched. */
export const LEAK_STATE_FILE = 'leak-scan.json';

interface LeakState {
  version: 1;
  /** Hash of the managed values searched for: a rotation changes it and starts a full search. */
  valuesDigest: string;
  /** Ref tips whose history was searched; the next run skips commits reachable from them. */
  scannedTips: string[];
  /** Leaks found so far (no values): reported again every day until the secret is rotated. */
  leaks: Array<{ secret: string; file: string; commit?: string; fingerprint: string }>;
}

export interface LeakedValue {
  secret: string;
  file: string;
  line: number;
  commit?: string;
}

export interface LeakedValueDeps {
  files: FileStore;
  scanSources: ScanSources;
  /** The state lock for writing the leak state (the CLI's deps); without it the write is direct. */
  transaction?: Deps;
  /** Where a one-time remark goes (the history was rewritten); check sends it to stderr. */
  note?: (line: string) => void;
}

function valuesDigest(values: Array<{ id: string; value: string }>): string {
  const hash = createHash('sha256');
  for (const { id, value } of [...values].sort((a, b) => (a.id + a.value < b.id + b.value ? -1 : 1)))
    hash.update(`${id}\u0000${value}\u0000`);
  return hash.digest('hex');
}

async function readState(path: string, files: FileStore): Promise<LeakState | undefined> {
  const text = await files.readTextIfExists(path);
  if (text === undefined) return undefined;
  try {
    const state = JSON.parse(text) as LeakState;
    return state.version === 1 && Array.isArray(state.scannedTips) && Array.isArray(state.leaks) ? state : undefined;
  } catch (error) {
    // A damaged state file only means the history is searched again.
    if (error instanceof SyntaxError) return undefined;
    throw error;
  }
}

const secretOf = (finding: Finding) => finding.ruleId.replace(/^managed:/, '');

/**
 * Does any commit the state names as holding a leak no longer hold it (or no longer exist)? One
 * small git call per such commit, and only when a ref moved: the leaks are few.
 */
async function leakCommitsRewritten(
  policy: Policy,
  state: LeakState,
  scanDeps: Parameters<typeof runScan>[1],
): Promise<boolean> {
  const commits = [...new Set(state.leaks.flatMap((leak) => (leak.commit ? [leak.commit] : [])))];
  for (const commit of commits) {
    const expected = new Set(state.leaks.filter((leak) => leak.commit === commit).map((leak) => leak.fingerprint));
    try {
      const again = await runScan({ cwd: policy.root, policy, mode: 'history', range: `${commit}^!` }, scanDeps);
      const seen = new Set(again.findings.map((finding) => finding.fingerprint));
      if ([...expected].some((fingerprint) => !seen.has(fingerprint))) return true;
    } catch {
      return true;
    }
  }
  return false;
}

/**
 * Where do the current values of the managed secrets appear? Searches the working tree (files
 * git would commit, or every file outside git) and the git history, literally, with no pattern
 * rules. Incremental: the state folder remembers the ref tips already searched and the leaks
 * found, so a daily run on a long history only reads the new commits.
 */
export async function findLeakedValues(policy: Policy, deps: LeakedValueDeps): Promise<LeakedValue[]> {
  const values = await readManagedValues(policy, deps);
  if (values.length === 0) return [];
  const digest = valuesDigest(values);
  const statePath = join(policy.stateDir, LEAK_STATE_FILE);
  const previous = await readState(statePath, deps.files);
  const state: LeakState =
    previous && previous.valuesDigest === digest
      ? previous
      : { version: 1, valuesDigest: digest, scannedTips: [], leaks: [] };
  const scanDeps = { sources: deps.scanSources, files: deps.files, rules: [] };

  // The tree scan and the question "did any ref move?" are independent: ask git both at once.
  const gitRoot = await deps.scanSources.gitRoot(policy.root);
  const [tree, tips] = await Promise.all([
    runScan({ cwd: policy.root, policy, skipValueHomes: true }, scanDeps),
    gitRoot ? deps.scanSources.refTips(gitRoot) : Promise.resolve(undefined),
  ]);
  const found: LeakedValue[] = tree.findings.map((finding) => ({
    secret: secretOf(finding),
    file: finding.file,
    line: finding.line,
  }));

  if (gitRoot && tips) {
    const unchanged =
      tips.length === state.scannedTips.length && tips.every((tip, index) => tip === state.scannedTips[index]);
    let changed = state !== previous || !unchanged;
    let history: { findings: Finding[] } = { findings: [] };
    if (!unchanged) {
      // A rewritten history (git filter-repo, then gc) shows up two ways: a tip searched last time
      // that git no longer has ("bad object"), or, with filter-repo's replace refs, a commit that
      // held a leak and now reads without it. What was searched and found before means nothing
      // then: the state forgets it and the whole history is searched again. Said once, because the
      // state written below no longer names the vanished tips or leaks.
      let rewritten = await leakCommitsRewritten(policy, state, scanDeps);
      if (!rewritten) {
        try {
          history = await runScan({ cwd: policy.root, policy, mode: 'history', exclude: state.scannedTips }, scanDeps);
        } catch (error) {
          if (state.scannedTips.length === 0) throw error;
          rewritten = true;
        }
      }
      if (rewritten) {
        history = await runScan({ cwd: policy.root, policy, mode: 'history', exclude: [] }, scanDeps);
        state.scannedTips = [];
        state.leaks = [];
        changed = true;
        deps.note?.('history rewritten since the last search: searching it again');
      }
    }
    const known = new Set(state.leaks.map((leak) => leak.fingerprint));
    for (const finding of history.findings) {
      if (known.has(finding.fingerprint)) continue;
      const leak: LeakState['leaks'][number] = {
        secret: secretOf(finding),
        file: finding.file,
        fingerprint: finding.fingerprint,
      };
      if (finding.commit) leak.commit = finding.commit;
      state.leaks.push(leak);
      changed = true;
    }
    state.scannedTips = tips;
    // A daily run on an unchanged repository writes nothing (an atomic write costs two fsyncs).
    // Under the state lock like every write there, but never waiting for it: check runs from cron
    // and must not block on a rotation; the next run writes what this one could not.
    if (changed) {
      const text = `${JSON.stringify(state, null, 2)}\n`;
      const write = async () => {
        await deps.files.ensureDir(policy.stateDir, 0o700);
        await deps.files.writeAtomic(statePath, text, { mode: 0o600 });
      };
      await (
        deps.transaction
          ? withStateLock(policy.stateDir, { command: 'secrets check (leaked-value state)' }, deps.transaction, write)
          : write()
      ).catch((error: unknown) => {
        if (!isSecretsError(error) || (error.code !== 'locked' && error.code !== 'audit-broken')) throw error;
      });
    }
    for (const leak of state.leaks) {
      const entry: LeakedValue = { secret: leak.secret, file: leak.file, line: 0 };
      if (leak.commit) entry.commit = leak.commit;
      found.push(entry);
    }
  }
  return found;
}

/** The `leaked-value` check of `secrets check`: each leak of a current managed value is critical. */
export async function checkLeakedValues(input: CheckInput, deps: Deps): Promise<CheckFinding[]> {
  if (!deps.scanSources) return [];
  let leaks: LeakedValue[];
  try {
    leaks = await findLeakedValues(input.policy, {
      files: deps.files,
      scanSources: await deps.scanSources(),
      transaction: deps,
      note: (line) => deps.output.err(`note: ${line}\n`),
    });
  } catch (error) {
    // An unreadable .env is already a `format` finding; say why this check could not run.
    if (!isSecretsError(error)) throw error;
    return [
      {
        check: 'leaked-value',
        severity: 'warning',
        path: error.where,
        message: `leaked-value: could not search for leaked values: ${error.message}`,
      },
    ];
  }
  // One finding per file: its working-tree lines and the commits that kept it, every secret named once.
  const byFile = new Map<string, { secrets: Set<string>; lines: Set<number>; commits: Set<string> }>();
  for (const leak of leaks) {
    const path = relative(input.policy.root, join(input.policy.root, leak.file));
    const group = byFile.get(path) ?? { secrets: new Set(), lines: new Set(), commits: new Set() };
    group.secrets.add(leak.secret);
    if (leak.commit) group.commits.add(leak.commit.slice(0, 12));
    else group.lines.add(leak.line);
    byFile.set(path, group);
  }
  return [...byFile].map(([path, group]) => {
    const secrets = [...group.secrets].sort();
    const lines = [...group.lines].sort((a, b) => a - b);
    const commits = [...group.commits];
    const places = [
      ...(lines.length > 0 ? [`${path}:${lines.join(',')}`] : []),
      ...(commits.length > 0
        ? [
            `${lines.length > 0 ? 'its git history' : path} (commit ${commits[0]}${commits.length > 1 ? ` and ${commits.length - 1} more` : ''})`,
          ]
        : []),
    ];
    return {
      check: 'leaked-value' as const,
      severity: 'critical' as const,
      ...(secrets.length === 1 ? { secret: secrets[0]! } : {}),
      secrets,
      path,
      message: leakMessage(secrets, places.join(' and ')),
    };
  });
}
