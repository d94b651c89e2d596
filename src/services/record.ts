import { findSecret, type Policy } from '../core/policy.js';
import { SecretsError } from '../core/errors.js';
import { appendAudit } from './state/audit-trail.js';
import type { Deps } from './deps.js';
import { DEFAULT_APPEND_WAIT_MS, withStateLock } from './state/state-lock.js';

/**
 * `secrets record ID --on DATE`: a rotation done out of band (first adoption, a manual secret).
 * It records the date only; the value is not read, so no fingerprint is claimed.
 */
export async function runRecord(
  input: { policy: Policy; id: string; on: Date; note?: string },
  deps: Deps,
): Promise<{ id: string; on: Date }> {
  findSecret(input.policy, input.id);
  if (input.on.getTime() > deps.clock.now().getTime() + 60_000) {
    throw new SecretsError(
      'bad-date',
      `--on ${input.on.toISOString().slice(0, 10)} is in the future; a rotation is recorded after it happened`,
    );
  }
  // The append is the whole change: under the lock, after the trail's head is checked.
  await withStateLock(
    input.policy.stateDir,
    { command: `secrets record ${input.id}`, waitMs: DEFAULT_APPEND_WAIT_MS },
    deps,
    () =>
      appendAudit(
        input.policy.stateDir,
        {
          action: 'recorded',
          secret: input.id,
          details: { on: input.on.toISOString(), ...(input.note ? { note: input.note } : {}) },
        },
        deps,
      ),
  );
  return { id: input.id, on: input.on };
}
