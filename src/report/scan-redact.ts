import type { Finding } from '../core/scan/types.js';

/**
 * A found secret as reports show it: its first four characters, an ellipsis and its length
 * (`ghp_…(40)`). Short values show fewer characters, so a mask never gives most of one away.
 */
export function redactSecret(value: string): string {
  const shown = value.length >= 16 ? 4 : value.length >= 8 ? 2 : 0;
  return `${value.slice(0, shown)}…(${value.length})`;
}

export function shownMatch(finding: Finding, reveal: boolean): string {
  return reveal ? finding.secret.reveal() : redactSecret(finding.secret.reveal());
}
