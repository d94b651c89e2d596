import * as z from 'zod/mini';
import { commonFields, durationText, envKey, nonEmpty, withDefault } from '../../core/policy-schema.js';

/** `kind: dingtalk`: a robot's webhook URL and signing secret, two keys of the env file. */
export const dingtalkSchema = z.strictObject({
  kind: z.literal('dingtalk'),
  ...commonFields,
  url_key: withDefault(envKey, 'DINGTALK_WEBHOOK_URL'),
  /** Null for robots secured by keywords only. */
  secret_key: withDefault(z.nullable(envKey), 'DINGTALK_SECRET'),
  keywords: withDefault(z.array(nonEmpty), []),
  timeout: withDefault(durationText, '5s'),
  /** Send a confirmation message through the new pair after the swap. */
  confirm: withDefault(z.boolean(), true),
});

export type DingtalkSpec = z.output<typeof dingtalkSchema>;
