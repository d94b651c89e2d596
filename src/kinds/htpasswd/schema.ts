import * as z from 'zod/mini';
import { commonFields, durationText, intBetween, modeText, nonEmpty, withDefault } from '../../core/policy-schema.js';

const probeSchema = z.strictObject({
  url: z.url({ error: 'expected an http(s) URL' }),
  expect_new: withDefault(intBetween(100, 599), 200),
  expect_old: withDefault(intBetween(100, 599), 401),
  timeout: withDefault(durationText, '5s'),
});

const deliverSchema = z.strictObject({
  recipients: z.array(nonEmpty).check(z.minLength(1, { error: 'expected at least one OpenPGP public key file' })),
  dir: nonEmpty,
});

/** `kind: htpasswd`: one user's line in an nginx/Apache htpasswd file. */
export const htpasswdSchema = z.strictObject({
  kind: z.literal('htpasswd'),
  ...commonFields,
  file: nonEmpty,
  user: z
    .string()
    .check(z.minLength(1), z.regex(/^[^:\r\n]+$/, { error: 'expected a user name without ":" or line breaks' })),
  bcrypt_cost: withDefault(intBetween(4, 15), 8),
  length: withDefault(intBetween(16, 128), 24),
  mode: withDefault(modeText, '640'),
  /** Create the htpasswd file when it does not exist (otherwise a missing file is an error). */
  create: withDefault(z.boolean(), false),
  probe: z.optional(probeSchema),
  deliver: z.optional(deliverSchema),
});

export type HtpasswdSpec = z.output<typeof htpasswdSchema>;
