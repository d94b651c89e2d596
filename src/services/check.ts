import { dirname, join } from 'node:path';
import { lastRotations } from '../core/audit.js';
import { checkDeadlines } from '../core/checks/deadline.js';
import {
  checkAuditChain,
  checkBackupAge,
  checkFileModes,
  checkGitignore,
  checkPlaintextBackups,
  looksLikeOpenPgp,
  modeRequirements,
  PLAINTEXT_BACKUP_NAME,
  mergeLeaksIntoFileFindings,
} from '../core/checks/compliance.js';
import { sortFindings, worstSeverity, type CheckOutcome, type Finding } from '../core/checks/types.js';

export type { CheckOutcome } from '../core/checks/types.js';
import { parseDotenv, type EnvDocument } from '../core/dotenv.js';
import { errnoCode, isSecretsError } from '../core/errors.js';
import type { FileStat } from '../core/ports.js';
import type { Policy } from '../core/policy.js';
import { checkFormats, checkPlaceholders } from '../kinds/checks.js';
import { checkBackupConfig } from './checks/backup-config-check.js';
import { checkAuthFailures } from './access-log.js';
import { checkStrayCopies } from './checks/stray-copy-check.js';
import { backupFiles, kindOf } from '../kinds/index.js';
import { AUDIT_FILE, readAuditEntries, verifyAuditTrail } from './state/audit-trail.js';
import type { Deps } from './deps.js';
import { checkStateLock } from './checks/lock-check.js';
import { checkLinks } from './checks/links-check.js';
import { checkBackupPassphrases } from './checks/passphrase-check.js';
import { checkRotationJournal } from './checks/journal-check.js';
import { checkLeakedValues } from './checks/leaked-value.js';
import { checkRevokedSecrets } from './checks/revoked-check.js';
import { checkLiveCredentials, checkPendingCredentials } from './checks/live-check.js';
import { checkApprovalState } from './checks/approval-check.js';
import { checkFleet } from './checks/fleet-check.js';

export interface CheckInput {
  policy: Policy;
  /** Evaluate as if it were this moment (--as-of). */
  now: Date;
  /** --live: also log in with each database and cache credential (network; off by default). */
  live?: boolean;
}

/** A check owned by another module (journal, revoked, leaked-value); listed in extraChecks below. */
export type ExtraCheck = (input: CheckInput, deps: Deps) => Promise<Finding[]>;

/**
 * Reads a secret file and turns a parse error, or a file there but unreadable, into a finding
 * rather than stopping the check (or, as before, passing over the file in silence).
 */
async function readParsed<T>(
  path: string,
  parse: (text: string) => T,
  deps: Deps,
  findings: Finding[],
): Promise<T | undefined> {
  let text: string | undefined;
  try {
    text = await deps.files.readTextIfExists(path);
  } catch (error) {
    const reason = errnoCode(error) ?? (error instanceof Error ? error.message : String(error));
    findings.push({ check: 'format', severity: 'critical', path, message: `${path}: cannot be read (${reason})` });
    return undefined;
  }
  if (text === undefined) return undefined;
  try {
    return parse(text);
  } catch (error) {
    if (!isSecretsError(error)) throw error;
    findings.push({
      check: 'format',
      severity: 'critical',
      path: error.where ?? path,
      message: `${error.where ?? path}: ${error.message}`,
    });
    return undefined;
  }
}

async function findPlaintextBackups(
  policy: Policy,
  deps: Deps,
): Promise<{ plaintext: string[]; newestEncrypted: Date | undefined }> {
  const folders = new Set<string>([policy.root, dirname(policy.envFile)]);
  for (const file of backupFiles(policy)) folders.add(dirname(file));
  const plaintext: string[] = [];
  for (const folder of folders) {
    const names = await deps.files.list(folder).catch(() => [] as string[]);
    for (const name of names) if (PLAINTEXT_BACKUP_NAME.test(name)) plaintext.push(join(folder, name));
  }
  let newestEncrypted: Date | undefined;
  const names = await deps.files.list(policy.backupDir).catch(() => [] as string[]);
  for (const name of names) {
    if (name.startsWith('.')) continue;
    const path = join(policy.backupDir, name);
    const stat = await deps.files.stat(path);
    // A default `secrets restore` unpacks into `<backup>.restored/`: plaintext until removed.
    if (stat?.isDirectory && name.endsWith('.restored')) {
      plaintext.push(path);
      continue;
    }
    if (!stat?.isFile) continue;
    const head = stat.size === 0 ? new Uint8Array() : (await deps.files.readBytes(path)).subarray(0, 64);
    if (looksLikeOpenPgp(head)) {
      if (!newestEncrypted || stat.mtime > newestEncrypted) newestEncrypted = stat.mtime;
    } else {
      plaintext.push(path);
    }
  }
  return { plaintext: plaintext.sort(), newestEncrypted };
}

/** Checks that live with the module they watch (rotation journal, revocations, leaked values). */
const extraChecks: ExtraCheck[] = [
  checkRotationJournal,
  checkPendingCredentials,
  checkRevokedSecrets,
  checkLeakedValues,
  checkBackupConfig,
  checkStrayCopies,
  checkAuthFailures,
  checkApprovalState,
  checkStateLock,
  checkLinks,
  checkBackupPassphrases,
  checkFleet,
];

/** `secrets check`: gather the facts, then let the pure checks in core decide. */
export async function runCheck(input: CheckInput, deps: Deps): Promise<CheckOutcome> {
  const { policy, now } = input;
  const findings: Finding[] = [];
  // The extra checks read their own files and ask git their own questions: started first, they
  // overlap with the gathering below instead of adding their git round-trips after it.
  const extras = Promise.all(
    [...extraChecks, ...(input.live ? [checkLiveCredentials] : [])].map((extra) => extra(input, deps)),
  );
  extras.catch(() => undefined);

  const { entries } = await readAuditEntries(policy.stateDir, deps);
  const deadlines = checkDeadlines(policy, lastRotations(entries), now);
  findings.push(...deadlines.findings);

  const required = modeRequirements(policy);
  const stats = new Map<string, FileStat | undefined>();
  for (const path of required.keys()) stats.set(path, await deps.files.stat(path));
  findings.push(...checkFileModes(required, stats));

  const repoRoot = await deps.git.repoRoot(policy.root);
  const secretFiles = backupFiles(policy);
  const repo = repoRoot
    ? {
        root: repoRoot,
        // An unreadable .gitignore counts as empty: the gitignore check then says what is missing.
        gitignoreLines: (
          (await deps.files.readTextIfExists(join(repoRoot, '.gitignore')).catch(() => undefined)) ?? ''
        ).split(/\r?\n/),
      }
    : undefined;
  const inRepo = repoRoot ? secretFiles.filter((file) => file.startsWith(`${repoRoot}/`)) : [];
  const tracked = repoRoot && inRepo.length > 0 ? await deps.git.trackedFiles(repoRoot, inRepo) : [];
  findings.push(...checkGitignore(policy, repo, tracked));

  const env: EnvDocument | undefined = await readParsed(
    policy.envFile,
    (text) => parseDotenv(text, policy.envFile),
    deps,
    findings,
  );
  findings.push(...checkPlaceholders(policy, env));

  // Files of a kind's own (the htpasswd file), parsed once here for its format check.
  const parsed = new Map<string, unknown>();
  for (const { spec } of policy.secrets) {
    const parses = kindOf(spec).compliance.parses;
    if (!parses) continue;
    for (const file of parses.files(spec, policy)) {
      const doc = await readParsed(file, (text) => parses.parse(text, file), deps, findings);
      parsed.set(file, doc);
      if (!doc && !(await deps.files.stat(file)) && !required.has(file)) {
        findings.push({ check: 'format', severity: 'critical', path: file, message: parses.missing(file) });
      }
    }
  }
  findings.push(...checkFormats(policy, env, parsed));

  const backups = await findPlaintextBackups(policy, deps);
  findings.push(...checkPlaintextBackups(backups.plaintext));
  findings.push(...checkBackupAge(policy, backups.newestEncrypted, now));

  findings.push(...checkAuditChain(await verifyAuditTrail(policy.stateDir, deps), join(policy.stateDir, AUDIT_FILE)));

  for (const found of await extras) findings.push(...found);

  const sorted = sortFindings(mergeLeaksIntoFileFindings(findings, policy.root));
  return {
    deployment: policy.deployment,
    status: worstSeverity(sorted),
    secrets: deadlines.statuses,
    findings: sorted,
    ranAt: deps.clock.now(),
  };
}
