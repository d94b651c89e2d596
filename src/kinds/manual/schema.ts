import * as z from 'zod/mini';
import { commonFields, envKey } from '../../core/policy-schema.js';

/** `kind: manual`: a secret only a person can change; tracked, its steps printed. */
export const manualSchema = z.strictObject({
  kind: z.literal('manual'),
  ...commonFields,
  env_key: z.optional(envKey),
  min_length: z.optional(z.number().check(z.int(), z.minimum(1))),
});

export type ManualSpec = z.output<typeof manualSchema>;
