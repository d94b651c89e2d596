import { ExitCode, SecretsError } from '../../core/errors.js';
import type { Policy } from '../../core/policy.js';
import type { Deps } from '../deps.js';
import { fingerprint } from '../../core/secret.js';
import { appendAudit, fingerprintKey } from '../state/audit-trail.js';
import { readPendingCredentials, removePendingCredential } from '../../kinds/pending-credentials.js';
import { runHooks } from './hooks.js';
import type { RotationContext } from '../../kinds/kind.js';
import { managedEnvValues } from '../../kinds/index.js';
import { handlerFor } from '../../kinds/rotations.js';
import { fingerprintKey as auditKey, readAuditEntries } from '../state/audit-trail.js';

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
      audit: {
        fingerprintKey: () => auditKey(policy.stateDir, deps),
        entries: async () => (await readAuditEntries(policy.stateDir, deps)).entries,
      },
      assumeYes: true,
      say: (line) => deps.output.out(`      ${line}\n`),
    };
    const plan = await handler.recover(found.spec, record, ctx);
    let detail = plan.detail;
    if (plan.change) {
      await deps.files.writeAtomic(plan.change.path, plan.change.content);
      const { after_change: hooks, hook_timeout: hookTimeout } = found.spec;
      const runs = await runHooks(
        hooks,
        {
          policy,
          hookTimeout,
          managedValues: managedEnvValues(
            policy,
            new Map([[policy.envFile, Buffer.from(plan.change.content).toString('utf8')]]),
          ),
        },
        deps,
      );
      const failed = runs.find((run) => !run.ok);
      if (failed)
        throw new SecretsError(
          'recover-hook-failed',
          `${record.secret}: .env now holds the credential the server accepts, but after_change hook "${failed.command}" failed (${failed.detail})`,
          { exitCode: ExitCode.mustAct, hint: `fix it and run the hooks by hand: ${hooks.join('; ')}` },
        );
      detail += `; ${runs.length} hook(s) run`;
    }
    const key = await fingerprintKey(policy.stateDir, deps);
    if (plan.rotated)
      // Rolled forward: the rotation is complete, and recorded as one.
      await appendAudit(
        policy.stateDir,
        {
          action: 'rotated',
          secret: record.secret,
          fingerprint: fingerprint(plan.rotated.next, key),
          previous: fingerprint(plan.rotated.previous, key),
          details: { rotation: record.rotation, kind: record.kind, files: [policy.envFile], recovered: true },
        },
        deps,
      );
    const finished = plan.finish ? await plan.finish() : undefined;
    if (finished) detail += `; ${finished}`;
    await appendAudit(
      policy.stateDir,
      {
        action: 'rotate-recovered',
        secret: record.secret,
        details: {
          rotation: record.rotation,
          outcome: plan.winner === 'pending' ? 'kept-new' : 'rolled-back',
          winner: plan.winner,
        },
      },
      deps,
    );
    await removePendingCredential(policy.stateDir, record.secret, deps);
    done.push({ secret: record.secret, detail });
  }
  return done;
}
