import * as z from 'zod/mini';
import { commonFields, envKey, intBetween, withDefault } from '../../core/policy-schema.js';

/** `kind: random`: a value this tool generates (SECRET_KEY, JWT_SECRET_KEY), one key of the env file. */
export const randomSchema = z.strictObject({
  kind: z.literal('random'),
  ...commonFields,
  env_key: envKey,
  bytes: withDefault(intBetween(16, 512), 32),
  encoding: withDefault(z.enum(['hex', 'base64', 'base64url', 'alphanumeric']), 'hex'),
  /** Shortest acceptable value (the format check); default: what bytes+encoding produce. */
  min_length: z.optional(z.number().check(z.int(), z.minimum(1))),
});

export type RandomSpec = z.output<typeof randomSchema>;
