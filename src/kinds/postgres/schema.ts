import * as z from 'zod/mini';
import { commonFields, durationText, envKey, intBetween, withDefault } from '../../core/policy-schema.js';

/** The split form's keys: for apps that read PGHOST, PGUSER, POSTGRES_PASSWORD… instead of one URL. */
export const SPLIT_KEYS = ['host_key', 'port_key', 'user_key', 'password_key', 'dbname_key'] as const;

/** `kind: postgres`: a database role's password, changed on the server (ALTER ROLE) and in .env. */
export const postgresSchema = z
  .strictObject({
    kind: z.literal('postgres'),
    ...commonFields,
    /**
     * The env key holding postgresql://user:password@host:port/db (DATABASE_URL when neither it nor
     * password_key is given). No zod default: the refinement below must see whether it was written.
     */
    url_key: z.optional(envKey),
    /** Instead of url_key: the env key holding the password alone (the only value a rotation changes). */
    password_key: z.optional(envKey),
    /** With password_key: the env key holding the role name (changed too under strategy alternating). */
    user_key: z.optional(envKey),
    /** With password_key: the env key holding the host (localhost when not given). */
    host_key: z.optional(envKey),
    /** With password_key: the env key holding the port (5432 when not given). */
    port_key: z.optional(envKey),
    /** With password_key: the env key holding the database name (the user's name when not given). */
    dbname_key: z.optional(envKey),
    /** An environment variable holding the URL of a role that may ALTER the app role (alternating needs it). */
    admin_url_env: z.optional(envKey),
    /** single: one role, a new password; alternating: ROLE and ROLE_clone take turns (no refused login). */
    strategy: withDefault(z.enum(['single', 'alternating']), 'single'),
    /** Generated passwords: 32+ characters of letters, digits and -_.~ (no quoting anywhere). */
    length: withDefault(intBetween(32, 128), 40),
    /** How long a connection may take before the server counts as down. */
    timeout: withDefault(durationText, '5s'),
  })
  .check(
    z.superRefine((spec, ctx) => {
      if (spec.url_key !== undefined && spec.password_key !== undefined)
        ctx.addIssue({
          code: 'custom',
          path: ['password_key'],
          message: 'give either url_key (one connection URL) or password_key (split keys), not both',
        });
      if (spec.password_key === undefined) {
        for (const field of SPLIT_KEYS.filter((name) => name !== 'password_key' && spec[name] !== undefined))
          ctx.addIssue({
            code: 'custom',
            path: [field],
            message: `${field} belongs to the split form: it needs password_key (and user_key) instead of url_key`,
          });
      } else if (spec.user_key === undefined)
        ctx.addIssue({
          code: 'custom',
          path: ['password_key'],
          message: 'password_key needs user_key (the env key holding the role name)',
        });
    }),
  );

export type PostgresSpec = z.output<typeof postgresSchema>;
