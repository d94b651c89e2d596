import type { Log, Notification, ReportingDescriptor, Result } from 'sarif';
import type { Finding, Rule, Severity, ScanSkipped } from '../core/scan/types.js';
import { shownMatch } from './scan-redact.js';

export const SARIF_SCHEMA = 'https://json.schemastore.org/sarif-2.1.0.json';

const LEVEL: Record<Severity, Result.level> = {
  critical: 'error',
  high: 'error',
  medium: 'warning',
  low: 'note',
};
/** GitHub orders alerts by this (0.0-10.0). */
const SECURITY_SEVERITY: Record<Severity, string> = { critical: '9.5', high: '8.0', medium: '5.5', low: '3.0' };

export interface SarifOptions {
  version: string;
  reveal?: boolean;
  rules: readonly Pick<Rule, 'id' | 'description' | 'severity'>[];
  /** Reported as the invocation's toolExecutionNotifications. */
  skipped?: ScanSkipped;
}

/** At most this many files named in one notification. */
const NAMED = 50;

function namedList(names: readonly string[]): string {
  return names.slice(0, NAMED).join(', ') + (names.length > NAMED ? `, and ${names.length - NAMED} more` : '');
}

/** What was not scanned, as SARIF notifications: one per unreadable file, one per other kind. */
function notifications(skipped: ScanSkipped): Notification[] {
  const notes: Notification[] = [];
  for (const path of skipped.unreadable)
    notes.push({
      level: 'warning',
      message: { text: `not scanned: could not read ${path}` },
      locations: [{ physicalLocation: { artifactLocation: { uri: encodeURI(path) } } }],
    });
  for (const entry of skipped.archives ?? [])
    notes.push({
      level: 'warning',
      message: { text: `archive not opened: ${entry.file}: ${entry.reason}` },
      locations: [{ physicalLocation: { artifactLocation: { uri: encodeURI(entry.file.split('!')[0]!) } } }],
    });
  if (skipped.large.length > 0)
    notes.push({
      level: 'note',
      message: { text: `not scanned, over the size limit (${skipped.large.length}): ${namedList(skipped.large)}` },
    });
  if (skipped.binary.length > 0)
    notes.push({
      level: 'note',
      message: { text: `not scanned, binary (${skipped.binary.length}): ${namedList(skipped.binary)}` },
    });
  for (const text of skipped.notes) notes.push({ level: 'note', message: { text } });
  return notes;
}

/**
 * SARIF 2.1.0 as GitHub code scanning accepts it: one run, the tool's rules (plus one entry per
 * managed secret found), results with a physical location, and a partial fingerprint so GitHub
 * tracks an alert across pushes. The message never holds the secret unless `reveal`.
 */
export function renderScanSarif(findings: readonly Finding[], options: SarifOptions): string {
  const ruleEntries = new Map<string, { id: string; description: string; severity: Severity }>();
  for (const rule of options.rules)
    ruleEntries.set(rule.id, { id: rule.id, description: rule.description, severity: rule.severity });
  for (const finding of findings) {
    if (!ruleEntries.has(finding.ruleId))
      ruleEntries.set(finding.ruleId, {
        id: finding.ruleId,
        description: finding.description,
        severity: finding.severity,
      });
  }
  const ruleList = [...ruleEntries.values()];
  const index = new Map(ruleList.map((rule, position) => [rule.id, position]));
  const descriptors: ReportingDescriptor[] = ruleList.map((rule) => ({
    id: rule.id,
    name: rule.id.replace(/[^A-Za-z0-9]+(.)?/g, (_, next: string | undefined) => (next ? next.toUpperCase() : '')),
    shortDescription: { text: rule.description },
    fullDescription: { text: rule.description },
    defaultConfiguration: { level: LEVEL[rule.severity] },
    properties: { tags: ['security', 'secret'], 'security-severity': SECURITY_SEVERITY[rule.severity] },
  }));
  const results: Result[] = findings.map((finding) => {
    const commit = finding.commit ? ` in commit ${finding.commit.slice(0, 12)}` : '';
    return {
      ruleId: finding.ruleId,
      ruleIndex: index.get(finding.ruleId)!,
      level: LEVEL[finding.severity],
      message: { text: `${finding.description}: ${shownMatch(finding, options.reveal ?? false)}${commit}` },
      locations: [
        {
          physicalLocation: {
            artifactLocation: { uri: encodeURI(finding.file) },
            region: { startLine: finding.line, startColumn: finding.column },
          },
        },
      ],
      partialFingerprints: { 'secretsFingerprint/v1': finding.fingerprint },
      ...(finding.commit ? { properties: { commit: finding.commit, author: finding.author, date: finding.date } } : {}),
    };
  });
  const sarif: Log = {
    $schema: SARIF_SCHEMA,
    version: '2.1.0',
    runs: [
      {
        tool: {
          driver: {
            name: 'secrets',
            informationUri: 'https://github.com/secrets-cli/secrets',
            semanticVersion: options.version,
            rules: descriptors,
          },
        },
        ...(options.skipped
          ? {
              invocations: [{ executionSuccessful: true, toolExecutionNotifications: notifications(options.skipped) }],
            }
          : {}),
        results,
      },
    ],
  };
  return `${JSON.stringify(sarif, null, 2)}\n`;
}
