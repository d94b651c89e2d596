import { SecretsError } from '../../core/errors.js';
import { providerKeyProblem } from '../../core/provider-key.js';
import type { ManualSpec } from './schema.js';
import { seenBefore } from '../seen-values.js';
import { askNewValues, currentEnvValues, planEnvChange } from '../env-values.js';
import type { KindHandler } from '../kind.js';

/**
 * `manual`: a secret only a person can change (a provider's console). The steps are printed;
 * the rotation is recorded only when the operator confirms (prompt, or --yes). With env_key,
 * the new value is read like a DingTalk one (hidden prompt twice, or stdin) and swapped in.
 */
export const manualHandler: KindHandler<ManualSpec> = {
  kind: 'manual',
  outline: (spec, policy) => ({
    files: spec.env_key ? [policy.envFile] : [],
    targets: spec.env_key ? [spec.env_key] : [],
    source: spec.env_key
      ? `asked: the new ${spec.env_key} (after ${spec.steps.length} manual step(s))`
      : `${spec.steps.length} manual step(s), then a confirmation`,
    test: spec.env_key
      ? 'length, provider key shape, not a placeholder, never used before for this secret'
      : 'the operator confirms',
  }),
  async create(spec, ctx, current) {
    const { deps } = ctx;
    if (spec.steps.length > 0) {
      ctx.say('do these steps by hand:');
      spec.steps.forEach((step, index) => ctx.say(`  ${index + 1}. ${step}`));
    }
    if (!ctx.assumeYes) {
      if (!deps.interactive) {
        throw new SecretsError(
          'needs-confirmation',
          `${ctx.id} is rotated by hand: run on a terminal to confirm, or pass --yes once the steps are done`,
        );
      }
      if (!(await deps.prompts.confirm(`${ctx.id}: are the steps above done?`, false))) {
        ctx.say('not confirmed; skipped');
        return undefined;
      }
    }
    if (!spec.env_key) return { next: {}, previous: {} };
    const key = spec.env_key;
    const values = await askNewValues(ctx, [
      {
        key,
        label: 'the new value',
        twice: true,
        problem: (value) =>
          value === ''
            ? 'it is empty'
            : spec.min_length !== undefined && value.length < spec.min_length
              ? `shorter than ${spec.min_length} characters`
              : providerKeyProblem(key, value),
      },
    ]);
    return { next: values, previous: currentEnvValues(ctx.policy, current, [key]) };
  },
  async test(spec, pending, ctx) {
    if (!spec.env_key) return 'confirmed by the operator';
    const value = pending.next[spec.env_key]!;
    const placeholders = ctx.policy.doc.compliance.placeholders.map((text) => text.toLowerCase());
    const hit = placeholders.find((placeholder) => value.reveal().toLowerCase().includes(placeholder));
    if (hit)
      throw new SecretsError(
        'placeholder',
        `the new ${spec.env_key} holds the placeholder "${hit}"; nothing was changed`,
      );
    if (pending.previous[spec.env_key]?.equals(value))
      throw new SecretsError('same-value', `the new ${spec.env_key} equals the current one; nothing was changed`);
    // An old value brought back (a DATABASE_URL from last year's runbook) is as leaked as it was then.
    if (await seenBefore(ctx, value))
      throw new SecretsError(
        'reused-value',
        `the new ${spec.env_key} was used before for ${ctx.id} (the audit trail has its fingerprint); nothing was changed`,
      );
    return `${value.length} characters, new, not a placeholder`;
  },
  planChanges: (spec, pending, current, ctx) => (spec.env_key ? planEnvChange(ctx.policy, current, pending.next) : []),
};
