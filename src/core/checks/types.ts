export type Severity = 'ok' | 'warning' | 'critical';

export const SEVERITY_RANK: Record<Severity, number> = { ok: 0, warning: 1, critical: 2 };

/** Stable ids of the checks; scripts and dashboards key on them. */
export type CheckId =
  | 'deadline'
  | 'file-mode'
  | 'gitignore'
  | 'placeholder'
  | 'format'
  | 'plaintext-backup'
  | 'audit-chain'
  | 'backup-age'
  | 'backup-config'
  | 'stray-copy'
  | 'auth-failures'
  | 'journal'
  | 'revoked'
  | 'leaked-value'
  | 'live'
  | 'approval'
  | 'lock'
  | 'links'
  | 'backup-passphrase'
  | 'fleet'
  | 'policy';

export const CHECK_IDS: CheckId[] = [
  'deadline',
  'file-mode',
  'gitignore',
  'placeholder',
  'format',
  'plaintext-backup',
  'audit-chain',
  'backup-age',
  'backup-config',
  'stray-copy',
  'auth-failures',
  'journal',
  'revoked',
  'leaked-value',
  'live',
  'approval',
  'lock',
  'links',
  'backup-passphrase',
  'fleet',
];

/** One problem found. A message names what is wrong and what to do, never a value. */
export interface Finding {
  check: CheckId;
  severity: Exclude<Severity, 'ok'>;
  secret?: string;
  /** Every secret a finding about one file affects (a leak, a plaintext copy), when more than one may. */
  secrets?: string[];
  path?: string;
  message: string;
}

export interface SecretStatus {
  id: string;
  kind: string;
  lastRotated: string | null;
  due: string | null;
  daysLeft: number | null;
  status: Severity;
}

/** What `secrets check` found: per-secret deadlines and every problem, worst first. */
export interface CheckOutcome {
  deployment: string;
  status: Severity;
  secrets: SecretStatus[];
  findings: Finding[];
  /** When this check ran (real time, for the prometheus "last run" sample). */
  ranAt: Date;
}

export function worstSeverity(findings: Array<{ severity: Severity }>): Severity {
  let worst: Severity = 'ok';
  for (const finding of findings) if (SEVERITY_RANK[finding.severity] > SEVERITY_RANK[worst]) worst = finding.severity;
  return worst;
}

/** Worst first, then by check, secret and path, so output is stable for diffing and mail. */
export function sortFindings(findings: Finding[]): Finding[] {
  return [...findings].sort(
    (a, b) =>
      SEVERITY_RANK[b.severity] - SEVERITY_RANK[a.severity] ||
      a.check.localeCompare(b.check) ||
      (a.secret ?? '').localeCompare(b.secret ?? '') ||
      (a.path ?? '').localeCompare(b.path ?? ''),
  );
}
