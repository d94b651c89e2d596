import type { CheckOutcome } from '../core/checks/types.js';

/** `{"status", "secrets": [...], "findings": [...]}` — the shape monitoring scripts read. */
export function renderCheckJson(outcome: CheckOutcome): string {
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
    },
    null,
    2,
  )}\n`;
}
