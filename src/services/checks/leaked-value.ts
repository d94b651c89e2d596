import { createHash } from 'node:crypto';
import { join, relative } from 'node:path';
import type { Finding as CheckFinding } from '../../core/checks/types.js';
import { SecretsError, isSecretsError } from '../../core/errors.js';
import type { FileStore } from '../../core/ports.js';
import type { Policy } from '../../core/policy.js';
import type { ScanSources } from '../../core/scan/ports.js';
import type { Finding } from '../../core/scan/types.js';
import type { CheckInput } from '../check.js';
import type { Deps } from '../deps.js';
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
    const history = unchanged
      ? { findings: [] }
      : await runScan({ cwd: policy.root, policy, mode: 'history', exclude: state.scannedTips }, scanDeps);
    const known = new Set(state.leaks.map((leak) => leak.fingerprint));
    let changed = state !== previous || !unchanged;
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
    if (changed) {
      await deps.files.ensureDir(policy.stateDir, 0o700);
      await deps.files.writeAtomic(statePath, `${JSON.stringify(state, null, 2)}\n`, { mode: 0o600 });
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
    leaks = await findLeakedValues(input.policy, { files: deps.files, scanSources: await deps.scanSources() });
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
  return leaks.map((leak) => {
    const where = leak.commit ? `${leak.file} in commit ${leak.commit.slice(0, 12)}` : `${leak.file}:${leak.line}`;
    const path = relative(input.policy.root, join(input.policy.root, leak.file));
    return {
      check: 'leaked-value',
      severity: 'critical',
      secret: leak.secret,
      path,
      message: `the current value of ${leak.secret} appears in ${where}: rotate it (secrets revoke ${leak.secret}) and remove it`,
    };
  });
}
