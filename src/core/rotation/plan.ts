import { lastRotations, type AuditEntry } from '../audit.js';
import { addDuration, daysBetween, durationMs, formatDay, parseDuration } from '../duration.js';
import { SecretsError } from '../errors.js';
import { findSecret, type Policy } from '../policy.js';
import type { SecretSpec } from '../policy-schema.js';

export interface SelectedSecret {
  id: string;
  spec: SecretSpec;
  /** Why it is in this run: named on the command line, never rotated, overdue, or due soon. */
  reason: 'named' | 'never rotated' | 'overdue' | 'due soon';
  /** The same in words with its dates, e.g. "overdue since 2025-07-10 (508 days ago, every 90d)". */
  why?: string;
}

/** Where one secret stands against its schedule, and why, in words. */
export interface SecretSchedule {
  id: string;
  spec: SecretSpec;
  state: 'never rotated' | 'overdue' | 'due soon' | 'not due';
  why: string;
}

/** Every secret of the policy against its schedule (the same dates `check` reports). */
export function reviewSchedule(policy: Policy, audit: AuditEntry[], now: Date): SecretSchedule[] {
  const last = lastRotations(audit);
  return policy.secrets.map(({ id, spec }) => {
    const rotated = last.get(id);
    if (!rotated) return { id, spec, state: 'never rotated', why: 'no rotation recorded' };
    const due = addDuration(rotated, parseDuration(spec.rotate_every)!);
    const days = daysBetween(now, due);
    const every = `every ${spec.rotate_every}, last ${formatDay(rotated)}`;
    if (now >= due)
      return {
        id,
        spec,
        state: 'overdue',
        why: `overdue since ${formatDay(due)} (${plural(-days, 'day')} ago, ${every})`,
      };
    const when = days === 0 ? 'today' : `in ${plural(days, 'day')}`;
    const state = now >= addDuration(due, parseDuration(spec.warn_before)!, -1) ? 'due soon' : 'not due';
    return { id, spec, state, why: `due ${formatDay(due)} (${when}, ${every})` };
  });
}

function plural(count: number, word: string): string {
  return `${count} ${word}${count === 1 ? '' : 's'}`;
}

/**
 * The secrets a `rotate` run covers: the ids named (in the order given), or every secret that
 * is overdue, never rotated, or within its warn_before window.
 */
export function selectSecrets(policy: Policy, ids: string[], audit: AuditEntry[], now: Date): SelectedSecret[] {
  if (ids.length > 0) {
    const seen = new Set<string>();
    return ids
      .filter((id) => !seen.has(id) && seen.add(id))
      .map((id) => ({ id, spec: findSecret(policy, id), reason: 'named' as const, why: 'named on the command line' }));
  }
  return reviewSchedule(policy, audit, now).flatMap(({ id, spec, state, why }) =>
    state === 'not due' ? [] : [{ id, spec, reason: state, why }],
  );
}

/** A policy duration (hook_timeout, timeout) in milliseconds; the schema already validated it. */
export function timeoutMs(text: string): number {
  const duration = parseDuration(text);
  if (!duration) throw new SecretsError('bad-duration', `expected a duration like 5s, got "${text}"`);
  return durationMs(duration);
}
