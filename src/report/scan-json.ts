import type { Finding, ScanSkipped } from '../core/scan/types.js';
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

/**
 * `--json`: `{"findings": [...], "scanned": {...}, "skipped": {...}}` with the match redacted
 * unless `reveal`; `skipped` names what was not scanned (binary, over the size limit, unreadable).
 */
export function renderScanJson(
  findings: readonly Finding[],
  options: { reveal?: boolean; scanned?: { files: number; commits: number }; skipped?: ScanSkipped } = {},
): string {
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
  const document: Record<string, unknown> = { findings: out };
  if (options.scanned) document.scanned = { files: options.scanned.files, commits: options.scanned.commits };
  if (options.skipped) document.skipped = options.skipped;
  return `${JSON.stringify(document, null, 2)}\n`;
}
