import { SecretsError } from '../core/errors.js';

/** The wait for --wait without a number: long enough for an operator to answer prompts. */
export const DEFAULT_LOCK_WAIT_MS = 10 * 60_000;

/** --wait [seconds] of rotate and revoke: undefined (fail at once), the default, or seconds. */
export function parseLockWait(value: string | boolean | undefined): number | undefined {
  if (value === undefined || value === false) return undefined;
  if (value === true) return DEFAULT_LOCK_WAIT_MS;
  const seconds = Number(value);
  if (!Number.isFinite(seconds) || seconds < 0)
    throw new SecretsError('bad-option', `--wait: expected seconds, got "${value}"`);
  return seconds * 1000;
}
