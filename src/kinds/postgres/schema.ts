import * as z from 'zod/mini';
import { commonFields, durationText, envKey, intBetween, withDefault } from '../../core/policy-schema.js';

/** `kind: postgres`: a database role's password, changed on the server (ALTER ROLE) and in the URL in .env. */
export const postgresSchema = z.strictObject({
  kind: z.literal('postgres'),
  ...commonFields,
  /** The env key holding postgresql://user:password@host:port/db. */
  url_key: withDefault(envKey, 'DATABASE_URL'),
  /** An environment variable holding the URL of a role that may ALTER the app role (alternating needs it). */
  admin_url_env: z.optional(envKey),
  /** single: one role, a new password; alternating: ROLE and ROLE_clone take turns (no refused login). */
  strategy: withDefault(z.enum(['single', 'alternating']), 'single'),
  /** Generated passwords: 32+ characters of letters, digits and -_.~ (no quoting anywhere). */
  length: withDefault(intBetween(32, 128), 40),
  /** How long a connection may take before the server counts as down. */
  timeout: withDefault(durationText, '5s'),
});

export type PostgresSpec = z.output<typeof postgresSchema>;
