import { addDuration, daysBetween, formatDay, parseDuration } from '../duration.js';
import type { Policy } from '../policy.js';
import type { Finding, SecretStatus } from './types.js';

/**
 * Rotation deadlines: never recorded is critical (nobody knows how old it is), past due is
 * critical, within warn_before is a warning.
 */
export function checkDeadlines(
  policy: Policy,
  lastRotated: Map<string, Date>,
  now: Date,
): { statuses: SecretStatus[]; findings: Finding[] } {
  const statuses: SecretStatus[] = [];
  const findings: Finding[] = [];
  for (const { id, spec } of policy.secrets) {
    const last = lastRotated.get(id);
    if (!last) {
      statuses.push({ id, kind: spec.kind, lastRotated: null, due: null, daysLeft: null, status: 'critical' });
      findings.push({
        check: 'deadline',
        severity: 'critical',
        secret: id,
        message: `${id}: no rotation recorded; rotate it (secrets rotate ${id}) or record when it last was (secrets record ${id} --on YYYY-MM-DD)`,
      });
      continue;
    }
    const due = addDuration(last, parseDuration(spec.rotate_every)!);
    const warnFrom = addDuration(due, parseDuration(spec.warn_before)!, -1);
    const daysLeft = daysBetween(now, due);
    let status: SecretStatus['status'] = 'ok';
    if (now >= due) {
      status = 'critical';
      findings.push({
        check: 'deadline',
        severity: 'critical',
        secret: id,
        message: `${id}: rotation overdue since ${formatDay(due)} (${-daysLeft} day${-daysLeft === 1 ? '' : 's'} ago, every ${spec.rotate_every}); run secrets rotate ${id}`,
      });
    } else if (now >= warnFrom) {
      status = 'warning';
      findings.push({
        check: 'deadline',
        severity: 'warning',
        secret: id,
        message: `${id}: rotation due ${whenDue(now, due)}; run secrets rotate ${id}`,
      });
    }
    statuses.push({ id, kind: spec.kind, lastRotated: last.toISOString(), due: due.toISOString(), daysLeft, status });
  }
  return { statuses, findings };
}

/** "today", "tomorrow" or "2026-12-14 (in 15 days)", counted in calendar days (UTC), never "in 0 days". */
function whenDue(now: Date, due: Date): string {
  const calendarDays = Math.round(
    (Date.parse(`${formatDay(due)}T00:00:00Z`) - Date.parse(`${formatDay(now)}T00:00:00Z`)) / 86_400_000,
  );
  if (calendarDays <= 0) return `today (${formatDay(due)})`;
  if (calendarDays === 1) return `tomorrow (${formatDay(due)})`;
  return `${formatDay(due)} (in ${calendarDays} days)`;
}
