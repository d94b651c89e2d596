import { appendAudit, fingerprintKey } from '../../src/commands/audit-trail.js';
import type { Deps } from '../../src/commands/deps.js';
import { loadPolicy } from '../../src/commands/load-policy.js';
import type { KindHandler, PendingRotation, RotationContext } from '../../src/commands/rotation/kind-handler.js';
import { durationMs, parseDuration } from '../../src/core/duration.js';
import { errnoCode, ExitCode, SecretsError } from '../../src/core/errors.js';
import type { SecretSpec } from '../../src/core/policy-schema.js';
import { findSecret } from '../../src/core/policy.js';
import { fingerprint } from '../../src/core/secret.js';

export interface StandinResult {
  said: string[];
  tested: string;
  verified: string | undefined;
  delivered: string | undefined;
}

/**
 * A stand-in for the rotation engine (being built on branch `rotate`), driving one KindHandler
 * exactly as kind-handler.ts describes: create → test → planChanges → atomic writes → hooks →
 * verify (roll back and rerun hooks on failure, exit 3) → audit record → deliver. It exists only
 * so the htpasswd kind is proven end to end before the engine lands; then these tests move to
 * the real `runRotate`.
 */
export async function rotateWithStandin<S extends SecretSpec, P extends PendingRotation>(
  handler: KindHandler<S, P>,
  policyPath: string,
  id: string,
  deps: Deps,
  /** What the CLI puts in the context: --password-stdin / --password-prompt. */
  extras: Pick<RotationContext, 'passwordFrom'> = {},
): Promise<StandinResult> {
  const policy = await loadPolicy(policyPath, deps);
  const spec = findSecret(policy, id) as S;
  const said: string[] = [];
  const ctx: RotationContext = { policy, id, deps, assumeYes: true, ...extras, say: (line) => said.push(line) };
  const readCurrent = async () => {
    const current = new Map<string, string | undefined>();
    for (const file of handler.outline(spec, policy).files) current.set(file, (await deps.files.stat(file)) ? await deps.files.readText(file) : undefined);
    return current;
  };

  const pending = await handler.create(spec, ctx, await readCurrent());
  if (!pending) throw new Error('the handler skipped the secret');
  const tested = await handler.test(spec, pending, ctx);
  const before = await readCurrent();
  const changes = handler.planChanges(spec, pending, before, ctx);

  const hookTimeout = durationMs(parseDuration(spec.hook_timeout)!);
  const runHooks = async () => {
    for (const hook of spec.after_change) {
      const result = await deps.runner.run(hook, { cwd: policy.root, timeoutMs: hookTimeout });
      if (result.code !== 0) throw new SecretsError('hook-failed', `after_change hook failed (${result.code}): ${hook}: ${result.stderr.trim()}`);
    }
  };
  const restore = async () => {
    for (const change of changes) {
      const previous = before.get(change.path);
      if (previous === undefined) await deps.files.remove(change.path);
      else await deps.files.writeAtomic(change.path, previous);
    }
    await runHooks();
  };

  let verified: string | undefined;
  try {
    for (const change of changes) await deps.files.writeAtomic(change.path, change.content, change.mode === undefined ? {} : { mode: change.mode });
  } catch (error) {
    throw new SecretsError('write-failed', `could not write ${changes.map((change) => change.path).join(', ')} (${errnoCode(error) ?? String(error)}); nothing was changed`, { cause: error });
  }
  try {
    await runHooks();
    verified = await handler.verify?.(spec, pending, ctx);
  } catch (error) {
    try {
      await restore();
    } catch (restoreError) {
      throw new SecretsError('rollback-failed', `rotation failed and the roll-back failed too: ${String(restoreError)}`, { exitCode: ExitCode.mustAct, cause: error });
    }
    const reason = error instanceof SecretsError ? error.message : String(error);
    throw new SecretsError('rotation-rolled-back', `${id}: ${reason}; the previous file was put back`, { cause: error });
  }

  const key = await fingerprintKey(policy.stateDir, deps);
  const [label, value] = Object.entries(pending.next)[0]!;
  await appendAudit(policy.stateDir, { action: 'rotated', secret: id, fingerprint: fingerprint(value, key), details: { label } }, deps);
  const delivered = await handler.deliver?.(spec, pending, ctx);
  return { said, tested, verified, delivered };
}
