import { SecretsError } from '../errors.js';
import type { Finding } from './types.js';

export interface BaselineEntry {
  fingerprint: string;
  ruleId: string;
  file: string;
}

/**
 * A baseline: the fingerprints a team accepted. Sorted, one entry per fingerprint, no dates
 * and no line numbers, so the file changes only when the accepted findings do.
 */
export function formatBaseline(findings: readonly Finding[]): string {
  const entries = new Map<string, BaselineEntry>();
  for (const finding of findings) {
    entries.set(finding.fingerprint, { fingerprint: finding.fingerprint, ruleId: finding.ruleId, file: finding.file });
  }
  const sorted = [...entries.values()].sort((a, b) =>
    a.fingerprint < b.fingerprint ? -1 : a.fingerprint > b.fingerprint ? 1 : 0,
  );
  return `${JSON.stringify({ version: 1, findings: sorted }, null, 2)}\n`;
}

export function parseBaseline(text: string, where: string): Set<string> {
  let data: unknown;
  try {
    data = JSON.parse(text);
  } catch {
    throw new SecretsError('baseline-invalid', 'the baseline is not valid JSON', {
      where,
      hint: 'make it again with --write-baseline',
    });
  }
  const findings = (data as { findings?: unknown } | null)?.findings;
  if (
    !Array.isArray(findings) ||
    findings.some((entry) => typeof (entry as BaselineEntry | null)?.fingerprint !== 'string')
  ) {
    throw new SecretsError('baseline-invalid', 'expected {"version": 1, "findings": [{"fingerprint": ...}]}', {
      where,
      hint: 'make it again with --write-baseline',
    });
  }
  return new Set(findings.map((entry) => (entry as BaselineEntry).fingerprint));
}

export function withoutBaseline(findings: readonly Finding[], accepted: ReadonlySet<string>): Finding[] {
  return findings.filter((finding) => !accepted.has(finding.fingerprint));
}
