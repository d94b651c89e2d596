import { dingtalkSecretProblem, dingtalkUrlProblem } from '../../core/checks/compliance.js';
import { maskDingtalkUrl, textMessage } from '../../core/dingtalk.js';
import { SecretsError } from '../../core/errors.js';
import type { DingtalkSpec } from './schema.js';
import { timeoutMs } from '../../core/rotation/plan.js';
import { sendDingtalk } from './send.js';
import { askNewValues, currentEnvValues, planEnvChange, type AskedValue } from '../env-values.js';
import type { KindHandler } from '../kind.js';

function keysOf(spec: DingtalkSpec): string[] {
  return spec.secret_key ? [spec.url_key, spec.secret_key] : [spec.url_key];
}

/**
 * `dingtalk`: a robot's webhook URL and signing secret, which only DingTalk's admin page can
 * issue. The new pair must pass a signed test send (errcode 0) before it replaces the old pair,
 * and both change together: a URL of one robot with the secret of another silences every alert.
 */
export const dingtalkHandler: KindHandler<DingtalkSpec> = {
  kind: 'dingtalk',
  outline: (spec, policy) => ({
    files: [policy.envFile],
    targets: keysOf(spec),
    source: spec.secret_key
      ? "asked: the new robot's webhook URL and signing secret (hidden prompt, or stdin in dotenv form)"
      : "asked: the new robot's webhook URL (keyword robot: no secret)",
    test: `a ${spec.secret_key ? 'signed ' : ''}test message through the new robot must return errcode 0 (timeout ${spec.timeout})`,
  }),
  async create(spec, ctx, current) {
    const asked: AskedValue[] = [
      { key: spec.url_key, label: "the new robot's webhook URL", twice: false, problem: dingtalkUrlProblem },
    ];
    if (spec.secret_key)
      asked.push({
        key: spec.secret_key,
        label: "the new robot's signing secret (SEC…)",
        twice: true,
        problem: dingtalkSecretProblem,
      });
    const next = await askNewValues(ctx, asked);
    const previous = currentEnvValues(ctx.policy, current, keysOf(spec));
    if (keysOf(spec).every((key) => previous[key]?.equals(next[key]!))) {
      throw new SecretsError(
        'same-value',
        `${ctx.id}: the new pair equals the current one; create a new robot (or reset its token and secret) in DingTalk first`,
      );
    }
    ctx.say(
      `new robot ${maskDingtalkUrl(next[spec.url_key]!.reveal())}${spec.secret_key ? ' with its signing secret' : ''}`,
    );
    return { next, previous };
  },
  async test(spec, pending, ctx) {
    const { policy } = ctx;
    await sendDingtalk(
      {
        url: pending.next[spec.url_key]!,
        secret: spec.secret_key ? pending.next[spec.secret_key] : undefined,
        message: textMessage(
          `[${policy.deployment}] rotation test of the DingTalk robot "${ctx.id}" by secrets rotate. Alerts move to this robot once it passes.`,
          spec.keywords,
        ),
        timeoutMs: timeoutMs(spec.timeout),
        purpose: 'the rotation test message',
      },
      ctx.deps,
    );
    return `${spec.secret_key ? 'signed ' : ''}test message accepted (errcode 0)`;
  },
  planChanges: (_spec, pending, current, ctx) => planEnvChange(ctx.policy, current, pending.next),
  async deliver(spec, pending, ctx) {
    if (!spec.confirm) return undefined;
    await sendDingtalk(
      {
        url: pending.next[spec.url_key]!,
        secret: spec.secret_key ? pending.next[spec.secret_key] : undefined,
        message: textMessage(
          `[${ctx.policy.deployment}] DingTalk robot "${ctx.id}" rotated by secrets: alerts now come through this robot. Remove the old robot in DingTalk.`,
          spec.keywords,
        ),
        timeoutMs: timeoutMs(spec.timeout),
        purpose: 'the confirmation message',
      },
      ctx.deps,
    );
    return 'confirmation message sent through the new robot';
  },
};
