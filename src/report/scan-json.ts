import type { Finding } from '../core/scan/types.js';
import { shownMatch } from './scan-redact.js';

export interface ScanJsonFinding {
  ruleId: string;
  severity: string;
  file: string;
  line: number;
  column: number;
  commit?: string;
  author?: string;
  date?: string;
  match: string;
  fingerprint: string;
}

/** `--json`: `{"findings": [...]}` with the match redacted unless `reveal`. */
export function renderScanJson(findings: readonly Finding[], options: { reveal?: boolean } = {}): string {
  const out: ScanJsonFinding[] = findings.map((finding) => {
    const entry: ScanJsonFinding = {
      ruleId: finding.ruleId,
      severity: finding.severity,
      file: finding.file,
      line: finding.line,
      column: finding.column,
    } as ScanJsonFinding;
    if (finding.commit !== undefined) entry.commit = finding.commit;
    if (finding.author !== undefined) entry.author = finding.author;
    if (finding.date !== undefined) entry.date = finding.date;
    entry.match = shownMatch(finding, options.reveal ?? false);
    entry.fingerprint = finding.fingerprint;
    return entry;
  });
  return `${JSON.stringify({ findings: out }, null, 2)}\n`;
}
