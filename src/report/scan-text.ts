import type { Finding, ScanSkipped } from '../core/scan/types.js';
import { shownMatch } from './scan-redact.js';

export interface ScanTextSummary {
  mode: 'tree' | 'staged' | 'history';
  accepted: number;
  scanned: { files: number; commits: number; skippedBinary: number; skippedLarge: number };
  skipped?: ScanSkipped;
}

/** At most this many names of unreadable files in the one-line summary (JSON lists them all). */
const NAMED = 5;

function plural(count: number, word: string): string {
  return `${count} ${word}${count === 1 ? '' : 's'}`;
}

/** Human text: one block per finding, then a one-line summary. Secrets redacted unless `reveal`. */
export function renderScanText(
  findings: readonly Finding[],
  summary: ScanTextSummary,
  options: { reveal?: boolean } = {},
): string {
  const lines: string[] = [];
  for (const finding of findings) {
    lines.push(
      // A past value says whose and since when: "managed:dingtalk (value before 2026-03-01)".
      `${finding.file}:${finding.line}:${finding.column}  ${finding.family === 'managed-past' ? finding.description : finding.ruleId}  ${finding.severity}  ${shownMatch(finding, options.reveal ?? false)}`,
    );
    if (finding.commit) {
      const again = finding.laterCommits ? `  (added again in ${plural(finding.laterCommits, 'later commit')})` : '';
      lines.push(`  commit ${finding.commit.slice(0, 12)}  ${finding.author ?? ''}  ${finding.date ?? ''}${again}`);
    }
  }
  const what =
    summary.mode === 'history'
      ? plural(summary.scanned.commits, 'commit')
      : summary.mode === 'staged'
        ? `the staged change (${plural(summary.scanned.files, 'file')})`
        : plural(summary.scanned.files, 'file');
  const skipped: string[] = [];
  if (summary.scanned.skippedBinary > 0) skipped.push(`${summary.scanned.skippedBinary} binary`);
  if (summary.scanned.skippedLarge > 0) skipped.push(`${summary.scanned.skippedLarge} over the size limit`);
  const unreadable = summary.skipped?.unreadable ?? [];
  if (unreadable.length > 0)
    skipped.push(
      `${unreadable.length} unreadable: ${unreadable.slice(0, NAMED).join(', ')}${unreadable.length > NAMED ? ', …' : ''}`,
    );
  const archives = summary.skipped?.archives ?? [];
  if (archives.length > 0)
    skipped.push(
      `${archives.length} archive${archives.length === 1 ? '' : 's'} not opened: ${archives
        .slice(0, NAMED)
        .map((entry) => `${entry.file} (${entry.reason})`)
        .join(', ')}${archives.length > NAMED ? ', …' : ''}`,
    );
  const accepted = summary.accepted > 0 ? `, ${summary.accepted} accepted by the baseline` : '';
  const head = findings.length === 0 ? 'no leaks found' : `${plural(findings.length, 'leak')} found`;
  lines.push(`${head} in ${what}${skipped.length ? ` (skipped ${skipped.join(', ')})` : ''}${accepted}`);
  for (const note of summary.skipped?.notes ?? []) lines.push(`note: ${note}`);
  return `${lines.join('\n')}\n`;
}
