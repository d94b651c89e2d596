import type { Finding } from '../../core/checks/types.js';
import { durationMs, parseDuration } from '../../core/duration.js';
import type { CheckInput } from '../check.js';
import type { Deps } from '../deps.js';

/** Slack on top of the hooks' timeouts: backup, probes and the audit append. */
const SLACK_MS = 5 * 60_000;

/**
 * `secrets check`'s `lock` check. A lock whose holder died is harmless (the next change takes it
 * over exactly once) but says a command crashed: a warning. A lock held longer than any rotation
 * can take (every hook at its timeout, plus slack) means a command hangs and blocks every change:
 * critical. It only reads: check never takes the lock.
 */
export async function checkStateLock(input: CheckInput, deps: Deps): Promise<Finding[]> {
  const { policy } = input;
  const state = await deps.locker.inspect(policy.stateDir).catch(() => undefined);
  if (!state) return [];
  const longest = Math.max(
    0,
    ...policy.secrets.map(
      ({ spec }) =>
        (parseDuration(spec.hook_timeout) ? durationMs(parseDuration(spec.hook_timeout)!) : 60_000) *
        Math.max(1, spec.after_change.length),
    ),
  );
  const who = state.holder
    ? `pid ${state.holder.pid} on ${state.holder.host}, "${state.holder.command}", since ${state.holder.since}`
    : 'an empty or unreadable lock file';
  const minutes = Math.round(state.ageMs / 60_000);
  if (state.stale)
    return [
      {
        check: 'lock',
        severity: 'warning',
        path: state.path,
        message: `${state.path}: left by a command that died (${who}); the next change takes it over; run secrets rotate --recover to finish what it was doing`,
      },
    ];
  if (state.ageMs > longest + SLACK_MS)
    return [
      {
        check: 'lock',
        severity: 'critical',
        path: state.path,
        message: `${state.path}: held for ${minutes} min (${who}), longer than any rotation takes; every change waits for it — find out what that process is doing`,
      },
    ];
  return [];
}
