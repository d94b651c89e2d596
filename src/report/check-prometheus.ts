import type { CheckOutcome } from '../core/checks/types.js';
import { CHECK_IDS, SEVERITY_RANK } from '../core/checks/types.js';

function label(value: string): string {
  return value.replace(/\\/g, '\\\\').replace(/\n/g, '\\n').replace(/"/g, '\\"');
}

/**
 * node_exporter textfile format. No timestamps on samples (node_exporter rejects such files);
 * the run time is its own gauge, so a cron job that stopped running is itself visible.
 */
export function renderCheckPrometheus(outcome: CheckOutcome): string {
  const d = `deployment="${label(outcome.deployment)}"`;
  const lines: string[] = [];
  const metric = (name: string, help: string) => lines.push(`# HELP ${name} ${help}`, `# TYPE ${name} gauge`);

  metric('secrets_days_until_due', 'Days until the secret must be rotated; negative when overdue.');
  for (const secret of outcome.secrets) {
    if (secret.daysLeft !== null)
      lines.push(`secrets_days_until_due{${d},secret="${label(secret.id)}",kind="${secret.kind}"} ${secret.daysLeft}`);
  }
  metric('secrets_last_rotation_timestamp_seconds', 'When the secret was last rotated (0 when never recorded).');
  for (const secret of outcome.secrets) {
    const seconds = secret.lastRotated ? Math.floor(Date.parse(secret.lastRotated) / 1000) : 0;
    lines.push(
      `secrets_last_rotation_timestamp_seconds{${d},secret="${label(secret.id)}",kind="${secret.kind}"} ${seconds}`,
    );
  }
  metric('secrets_secret_status', 'Deadline status per secret: 0 ok, 1 warning, 2 critical.');
  for (const secret of outcome.secrets)
    lines.push(`secrets_secret_status{${d},secret="${label(secret.id)}"} ${SEVERITY_RANK[secret.status]}`);
  metric('secrets_check_status', 'Worst finding per check: 0 ok, 1 warning, 2 critical.');
  for (const check of CHECK_IDS) {
    const worst = outcome.findings
      .filter((finding) => finding.check === check)
      .reduce((max, finding) => Math.max(max, SEVERITY_RANK[finding.severity]), 0);
    lines.push(`secrets_check_status{${d},check="${check}"} ${worst}`);
  }
  metric('secrets_check_findings', 'Number of findings per check.');
  for (const check of CHECK_IDS)
    lines.push(
      `secrets_check_findings{${d},check="${check}"} ${outcome.findings.filter((finding) => finding.check === check).length}`,
    );
  metric('secrets_status', 'Overall status: 0 ok, 1 warning, 2 critical.');
  lines.push(`secrets_status{${d}} ${SEVERITY_RANK[outcome.status]}`);
  metric('secrets_check_last_run_timestamp_seconds', 'When secrets check last ran; alert when this stops moving.');
  lines.push(`secrets_check_last_run_timestamp_seconds{${d}} ${Math.floor(outcome.ranAt.getTime() / 1000)}`);
  return `${lines.join('\n')}\n`;
}
