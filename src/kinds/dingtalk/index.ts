/**
 * `kind: dingtalk`: a robot's webhook URL and signing secret, which only DingTalk's admin page can
 * issue; also the robot `notify.dingtalk` alerts the team through. Rotation: ./rotate.ts; the
 * signed send both use: ./send.ts.
 */
import { definedValues } from '../cut-off.js';
import { scalar } from '../draft-yaml.js';
import { currentEnvValues, envManagedValues, planEnvChange } from '../env-values.js';
import type { Kind } from '../kind.js';
import { Secret } from '../../core/secret.js';
import { dingtalkFormats } from './compliance.js';
import { dingtalkSchema, type DingtalkSpec } from './schema.js';

export type { DingtalkSpec };

/** DingTalk's own steps, when the policy names none: only its admin page can issue a new token. */
export const DINGTALK_RESET_STEPS = [
  'open the DingTalk group → Group Settings → Bots (群设置 → 机器人)',
  'open the leaked robot → Settings: reset the webhook (重置) and, under Security Settings, the signing secret (加签); or remove the robot and add a new custom robot',
  'copy the new webhook URL and signing secret (SEC…)',
  'give them to secrets: paste at the prompt, or pipe them as dotenv lines to secrets rotate ID --yes',
];

const keysOf = (spec: DingtalkSpec): string[] => (spec.secret_key ? [spec.url_key, spec.secret_key] : [spec.url_key]);

export const dingtalkKind: Kind<DingtalkSpec> = {
  name: 'dingtalk',
  shareable: true,
  schema: dingtalkSchema,
  envKeys: keysOf,
  files: (_spec, policy) => [policy.envFile],
  notifies: true,
  async managedValues(id, spec, { env }) {
    const values = [];
    for (const value of envManagedValues(id, keysOf(spec), env)) {
      values.push(value);
      // The webhook's access token on its own: it leaks without the URL around it too.
      const token = /[?&]access_token=([^&#\s]+)/.exec(value.value)?.[1];
      if (token) values.push({ id, value: token });
    }
    return values;
  },
  compliance: { formats: dingtalkFormats },
  revocation: {
    cutOff: 'blank the robot pair (alerts pause)',
    replace: (lockOnly) => (lockOnly ? 'not now (--lock-only)' : 'the new robot pair, after a signed test send'),
    defaultSteps: DINGTALK_RESET_STEPS,
    stepsIntro: 'reset the robot in DingTalk (only its admin page can issue a new token):',
    async noReplacement(id, _spec, deps) {
      if (!deps.interactive && (await deps.readStdin()).trim() === '')
        return `no new robot pair on standard input; once DingTalk has issued it, pipe it to secrets rotate ${id} --yes`;
      return undefined;
    },
    planCutOff(_id, spec, policy, current) {
      const keys = keysOf(spec);
      const revoked = definedValues(currentEnvValues(policy, current, keys));
      const blank: Record<string, Secret> = Object.fromEntries(keys.map((key) => [key, new Secret('')]));
      const changes = Object.keys(revoked).length > 0 ? planEnvChange(policy, current, blank) : [];
      return {
        summary: `blank ${keys.join(' and ')} in ${policy.envFile}`,
        files: [policy.envFile],
        targets: keys,
        revoked,
        changes,
        after: [
          'alerts pause until the new robot is in: better silence than alerts through a leaked robot anyone can post to',
        ],
      };
    },
  },
  draft: (proposal, rotateEvery) => [
    `    url_key: ${scalar(proposal.urlKey)}`,
    proposal.secretKey
      ? `    secret_key: ${scalar(proposal.secretKey)}`
      : '    secret_key: null           # keyword-secured robot: no signing secret',
    `    rotate_every: ${scalar(rotateEvery)}`,
    '    steps:',
    `      - ${scalar('DingTalk group → Settings → Smart Group Assistant → the robot → Reset webhook and secret')}`,
  ],
};
