import { lastRotations, type AuditEntry } from '../audit.js';
import { addDuration, durationMs, parseDuration } from '../duration.js';
import { SecretsError } from '../errors.js';
import { findSecret, type Policy } from '../policy.js';
import type { SecretSpec } from '../policy-schema.js';

export interface SelectedSecret {
  id: string;
  spec: SecretSpec;
  /** Why it is in this run: named on the command line, never rotated, overdue, or due soon. */
  reason: 'named' | 'never rotated' | 'overdue' | 'due soon';
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
      .map((id) => ({ id, spec: findSecret(policy, id), reason: 'named' as const }));
  }
  const last = lastRotations(audit);
  const selected: SelectedSecret[] = [];
  for (const { id, spec } of policy.secrets) {
    const rotated = last.get(id);
    if (!rotated) {
      selected.push({ id, spec, reason: 'never rotated' });
      continue;
    }
    const due = addDuration(rotated, parseDuration(spec.rotate_every)!);
    if (now >= due) selected.push({ id, spec, reason: 'overdue' });
    else if (now >= addDuration(due, parseDuration(spec.warn_before)!, -1))
      selected.push({ id, spec, reason: 'due soon' });
  }
  return selected;
}

/** A policy duration (hook_timeout, timeout) in milliseconds; the schema already validated it. */
export function timeoutMs(text: string): number {
  const duration = parseDuration(text);
  if (!duration) throw new SecretsError('bad-duration', `expected a duration like 5s, got "${text}"`);
  return durationMs(duration);
}
