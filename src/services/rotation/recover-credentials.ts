import { ExitCode, SecretsError } from '../../core/errors.js';
import type { Policy } from '../../core/policy.js';
import type { Deps } from '../deps.js';
import { readPendingCredentials } from '../state/pending-credentials.js';
import type { RotationContext } from './kind-handler.js';
import { handlerFor } from './kinds/index.js';

export interface CredentialRecovery {
  secret: string;
  detail: string;
}

/**
 * Finishes the server credentials an interrupted rotation left pending (postgres, redis): after
 * the file journal's own recovery, so .env is whole again when each kind tries pending, current
 * and previous against its server. The caller holds the lock.
 */
export async function recoverPendingCredentials(policy: Policy, deps: Deps): Promise<CredentialRecovery[]> {
  const done: CredentialRecovery[] = [];
  for (const record of await readPendingCredentials(policy.stateDir, deps)) {
    const found = policy.secrets.find((secret) => secret.id === record.secret);
    const handler = found ? handlerFor(found.spec) : undefined;
    if (!found || !handler?.recover)
      throw new SecretsError(
        'recover-unknown',
        `a pending credential of ${record.secret} (${record.kind}) was left by an interrupted rotation, but the policy no longer has it as that kind`,
        {
          exitCode: ExitCode.mustAct,
          hint: `log in with it by hand and put it where it belongs, then remove ${policy.stateDir}/pending/${record.secret}.json`,
        },
      );
    const ctx: RotationContext = {
      policy,
      id: record.secret,
      deps,
      assumeYes: true,
      say: (line) => deps.output.out(`      ${line}\n`),
    };
    done.push({ secret: record.secret, detail: await handler.recover(found.spec, record, ctx) });
  }
  return done;
}
