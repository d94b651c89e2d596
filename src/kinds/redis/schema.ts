import * as z from 'zod/mini';
import { commonFields, durationText, envKey, intBetween, withDefault } from '../../core/policy-schema.js';

/** `kind: redis`: an ACL user's password (or the legacy requirepass), changed on the server and in the URL. */
export const redisSchema = z.strictObject({
  kind: z.literal('redis'),
  ...commonFields,
  /** The env key holding redis://[user]:password@host:port/db. */
  url_key: withDefault(envKey, 'REDIS_URL'),
  /** The ACL user (Redis 6+), or "requirepass" for a server without ACL users. */
  user: withDefault(
    z.string().check(z.regex(/^[A-Za-z0-9._@-]+$/, { error: 'expected an ACL user name, or requirepass' })),
    'default',
  ),
  /** An environment variable holding the URL of a user allowed ACL SETUSER / CONFIG (default: the app's own). */
  admin_url_env: z.optional(envKey),
  length: withDefault(intBetween(32, 128), 40),
  timeout: withDefault(durationText, '5s'),
});

export type RedisSpec = z.output<typeof redisSchema>;
