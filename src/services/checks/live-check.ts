import type { Finding } from '../../core/checks/types.js';
import { isSecretsError } from '../../core/errors.js';
import { kindOf } from '../../kinds/index.js';
import { pendingPath, readPendingCredentials } from '../../kinds/pending-credentials.js';
import type { CheckInput } from '../check.js';
import type { Deps } from '../deps.js';

/**
 * `secrets check`'s offline half: a server credential left pending by an interrupted rotation
 * (its password is in the state folder, and .env and the server may disagree) is critical until
 * `secrets rotate --recover`. Only a directory listing: the daily check stays fast.
 */
export async function checkPendingCredentials(input: CheckInput, deps: Deps): Promise<Finding[]> {
  const { policy } = input;
  try {
    return (await readPendingCredentials(policy.stateDir, deps)).map((record) => ({
      check: 'journal',
      severity: 'critical',
      secret: record.secret,
      path: pendingPath(policy.stateDir, record.secret),
      message: `${record.secret}: a rotation of its ${record.kind} password was interrupted (started ${record.startedAt}); .env and the server may disagree: run secrets rotate --recover`,
    }));
  } catch (error) {
    return [
      { check: 'journal', severity: 'critical', message: isSecretsError(error) ? error.toLine() : String(error) },
    ];
  }
}

/**
 * `secrets check --live`: each kind that can proves its credential works right now (database and
 * cache logins, an htpasswd probe) and reports drift. Off by default: the daily check never opens
 * a network connection.
 */
export async function checkLiveCredentials(input: CheckInput, deps: Deps): Promise<Finding[]> {
  const { policy } = input;
  const envText = await deps.files.readText(policy.envFile).catch(() => undefined);
  const findings: Finding[] = [];
  for (const { id, spec } of policy.secrets) {
    const live = kindOf(spec).live;
    if (live) findings.push(...(await live(id, spec, { policy, envText, deps })));
  }
  return findings;
}
