import type { CheckOutcome } from '../core/checks/types.js';
import type { ErrorJson } from '../core/errors.js';

/**
 * `{"status", "secrets": [...], "findings": [...]}` — the shape monitoring scripts read; with
 * --notify also `"notify": {"sent", "error"?}`, whether the group was told.
 */
export function renderCheckJson(outcome: CheckOutcome, notify?: { sent: boolean; error?: ErrorJson }): string {
  return `${JSON.stringify(
    {
      status: outcome.status,
      deployment: outcome.deployment,
      secrets: outcome.secrets,
      findings: outcome.findings.map((finding) => ({
        check: finding.check,
        severity: finding.severity,
        ...(finding.secret !== undefined ? { secret: finding.secret } : {}),
        ...(finding.secrets !== undefined ? { secrets: finding.secrets } : {}),
        ...(finding.path !== undefined ? { path: finding.path } : {}),
        message: finding.message,
      })),
      ...(notify ? { notify } : {}),
    },
    null,
    2,
  )}\n`;
}
