import { basename } from 'node:path';
import type { AuditVerification } from '../audit.js';
import { addDuration, parseDuration, formatDay } from '../duration.js';
import type { FileStat } from '../ports.js';
import { resolveIn, type Policy } from '../policy.js';
import type { Finding } from './types.js';

const octal = (mode: number) => mode.toString(8).padStart(3, '0');

/** Files whose mode the policy names, plus the env file (never looser than 600). */
export function modeRequirements(policy: Policy): Map<string, number> {
  const required = new Map<string, number>();
  required.set(policy.envFile, 0o600);
  for (const [path, mode] of Object.entries(policy.doc.compliance.modes))
    required.set(resolveIn(policy.root, path), parseInt(mode, 8));
  return required;
}

/** A file looser than its required mode (any permission bit the policy does not grant) is critical. */
export function checkFileModes(required: Map<string, number>, stats: Map<string, FileStat | undefined>): Finding[] {
  const findings: Finding[] = [];
  for (const [path, mode] of required) {
    const stat = stats.get(path);
    if (!stat) {
      findings.push({
        check: 'file-mode',
        severity: 'critical',
        path,
        message: `${path}: missing (the policy expects it with mode ${octal(mode)})`,
      });
    } else if ((stat.mode & 0o777 & ~mode) !== 0) {
      findings.push({
        check: 'file-mode',
        severity: 'critical',
        path,
        message: `${path}: mode ${octal(stat.mode & 0o777)} is looser than ${octal(mode)}; run chmod ${octal(mode)} ${path}`,
      });
    }
  }
  return findings;
}

/** Required .gitignore lines (warning each) and secret files git tracks (critical). */
export function checkGitignore(
  policy: Policy,
  repo: { root: string; gitignoreLines: string[] } | undefined,
  tracked: string[],
): Finding[] {
  const findings: Finding[] = [];
  if (repo) {
    const present = new Set(
      repo.gitignoreLines.map((line) => line.trim()).filter((line) => line !== '' && !line.startsWith('#')),
    );
    for (const pattern of policy.doc.compliance.gitignore) {
      const variants = [pattern, `/${pattern}`, pattern.startsWith('/') ? pattern.slice(1) : `**/${pattern}`];
      if (!variants.some((variant) => present.has(variant))) {
        findings.push({
          check: 'gitignore',
          severity: 'warning',
          path: `${repo.root}/.gitignore`,
          message: `.gitignore lacks "${pattern}"; add it so the file cannot be committed by accident`,
        });
      }
    }
  }
  for (const path of tracked) {
    findings.push({
      check: 'gitignore',
      severity: 'critical',
      path,
      message: `${path}: tracked by git; its secrets are in the history: run git rm --cached ${basename(path)}, rotate what it holds, and secrets scan --history`,
    });
  }
  return findings;
}

export const DINGTALK_URL = /^https:\/\/oapi\.dingtalk\.com\/robot\/send\?access_token=[0-9a-f]{64}$/;
export const DINGTALK_TEST_URL =
  /^http:\/\/(127\.\d{1,3}\.\d{1,3}\.\d{1,3}|localhost|\[::1\]):\d{1,5}\/robot\/send\?access_token=[0-9a-f]{64}$/;
export const DINGTALK_SECRET = /^SEC[0-9a-f]{64}$/;

/** The shortest value `bytes` random bytes produce in an encoding. */
export function encodedLength(bytes: number, encoding: 'hex' | 'base64' | 'base64url' | 'alphanumeric'): number {
  switch (encoding) {
    case 'hex':
      return bytes * 2;
    case 'base64':
      return Math.ceil(bytes / 3) * 4;
    case 'base64url':
      return Math.ceil((bytes * 4) / 3);
    case 'alphanumeric':
      // Same entropy as the bytes: log2(62) ≈ 5.954 bits a character.
      return Math.ceil((bytes * 8) / Math.log2(62));
  }
}

/** Why a DingTalk webhook URL is not acceptable, or undefined when it is. */
export function dingtalkUrlProblem(url: string): string | undefined {
  if (DINGTALK_URL.test(url) || DINGTALK_TEST_URL.test(url)) return undefined;
  return 'expected https://oapi.dingtalk.com/robot/send?access_token=<64 hex>';
}

export function dingtalkSecretProblem(secret: string): string | undefined {
  return DINGTALK_SECRET.test(secret) ? undefined : 'expected SEC followed by 64 hex characters';
}

/** Names of plaintext copies of secret files (the old `cp .env .env.backup.$(date +%s)` habit). */
export const PLAINTEXT_BACKUP_NAME =
  /^(\.env\.(backup|bak|old|orig|save)([.-].*)?|\.env~|.*\.htpasswd\.(bak|backup|old|orig)([.-].*)?|\.htpasswd\.(bak|backup|old|orig)([.-].*)?|\.htpasswd~)$/;

/** Whether bytes start an OpenPGP message (armored, or a binary packet header with bit 7 set). */
export function looksLikeOpenPgp(head: Uint8Array): boolean {
  if (head.length === 0) return false;
  const text = Buffer.from(head.subarray(0, 40)).toString('latin1');
  if (text.startsWith('-----BEGIN PGP MESSAGE-----')) return true;
  const tag = head[0]!;
  if ((tag & 0x80) === 0) return false;
  // Old or new format packet: the first packet of an encrypted message is a session key
  // (PKESK tag 1, SKESK tag 3) or, rarely, encrypted data (tags 9, 18, 20).
  const packet = (tag & 0x40) !== 0 ? tag & 0x3f : (tag >> 2) & 0x0f;
  return [1, 3, 9, 18, 20].includes(packet);
}

export function checkPlaintextBackups(found: string[]): Finding[] {
  return found.map((path) => ({
    check: 'plaintext-backup' as const,
    severity: 'critical' as const,
    path,
    message: path.endsWith('.restored')
      ? `${path}: plaintext files left by secrets restore; compare what you need, then rm -r ${path}`
      : `${path}: an unencrypted copy of a secret file; encrypt and remove it with secrets backup --adopt ${path}`,
  }));
}

export function checkAuditChain(result: AuditVerification, auditPath: string): Finding[] {
  if (result.ok) return [];
  return [
    {
      check: 'audit-chain',
      severity: 'critical',
      path: `${auditPath}:${result.badLine ?? 0}`,
      message: `audit trail broken at line ${result.badLine}: ${result.reason}; run secrets log --verify`,
    },
  ];
}

/** No encrypted backup, or none newer than `keep`: a warning (restore would lose recent changes). */
export function checkBackupAge(policy: Policy, newestBackup: Date | undefined, now: Date): Finding[] {
  if (!newestBackup) {
    return [
      {
        check: 'backup-age',
        severity: 'warning',
        path: policy.backupDir,
        message: `no encrypted backup in ${policy.backupDir}; run secrets backup`,
      },
    ];
  }
  const keep = parseDuration(policy.doc.backup.keep)!;
  if (addDuration(newestBackup, keep) < now) {
    return [
      {
        check: 'backup-age',
        severity: 'warning',
        path: policy.backupDir,
        message: `newest encrypted backup is from ${formatDay(newestBackup)}, older than ${keep.text}; run secrets backup`,
      },
    ];
  }
  return [];
}

/** "a", "a and b", "a, b and c". */
function listOf(items: string[]): string {
  return items.length <= 1 ? (items[0] ?? '') : `${items.slice(0, -1).join(', ')} and ${items[items.length - 1]}`;
}

/**
 * One finding per root cause. A leaked value inside a plaintext copy (`.env.backup`) or a file git
 * tracks is the same problem as that file: the file's finding names every secret it holds, with
 * its own remedy (encrypt and remove a copy that never left the server; rotate what git has kept),
 * instead of one revoke per value. `root` resolves the leak finding's relative paths.
 */
export function mergeLeaksIntoFileFindings(findings: Finding[], root: string): Finding[] {
  const leaksByPath = new Map<string, Finding>();
  for (const finding of findings)
    if (finding.check === 'leaked-value' && finding.path && finding.secrets)
      leaksByPath.set(resolveIn(root, finding.path), finding);
  const absorbed = new Set<Finding>();
  const merged = findings.map((finding) => {
    if (!finding.path || (finding.check !== 'plaintext-backup' && finding.check !== 'gitignore')) return finding;
    const leak = leaksByPath.get(resolveIn(root, finding.path));
    if (!leak || leak.severity !== 'critical') return finding;
    absorbed.add(leak);
    const secrets = leak.secrets!;
    const holds = `it holds the current value${secrets.length === 1 ? '' : 's'} of ${listOf(secrets)}`;
    const [head, ...rest] = finding.message.split('; ');
    return { ...finding, secrets, message: [`${head}; ${holds}`, ...rest].join('; ') };
  });
  return merged.filter((finding) => !absorbed.has(finding));
}

/** The message of a leak of several secrets in one file: what, where, and the one remedy. */
export function leakMessage(secrets: string[], where: string): string {
  const revoke = secrets.map((id) => `secrets revoke ${id}`).join(', ');
  return secrets.length === 1
    ? `the current value of ${secrets[0]} appears in ${where}: rotate it (${revoke}) and remove it`
    : `the current values of ${listOf(secrets)} appear in ${where}: rotate them (${revoke}) and remove them`;
}
