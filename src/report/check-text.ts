import type { CheckOutcome } from '../core/checks/types.js';

export interface TextStyle {
  critical(text: string): string;
  warning(text: string): string;
}

export const plainStyle: TextStyle = { critical: (text) => text, warning: (text) => text };

/** One line per problem, worst first; nothing at all when all is well (cron mails only output). */
export function renderCheckText(outcome: CheckOutcome, style: TextStyle = plainStyle): string {
  return outcome.findings
    .map((finding) => {
      const label = finding.severity === 'critical' ? style.critical('CRITICAL') : style.warning('WARNING ');
      return `${label} ${finding.check}: ${finding.message}\n`;
    })
    .join('');
}
