/**
 * `kind: redis`: an ACL user's password (or the legacy requirepass), changed on the server for real
 * (docs/postgres-redis.md). Rotation and recovery: ./rotate.ts (listed in ../rotations.ts); the live
 * check imports it on call.
 */
import { recordOnlyCutOff } from '../cut-off.js';
import { scalar } from '../draft-yaml.js';
import { envManagedValues } from '../env-values.js';
import type { Kind } from '../kind.js';
import { connectionUrlFindings } from '../server-credential-kind.js';
import { redisSchema, type RedisSpec } from './schema.js';

export type { RedisSpec };

export const REDIS_SCHEMES = ['redis', 'rediss'];

export const redisKind: Kind<RedisSpec> = {
  name: 'redis',
  schema: redisSchema,
  envKeys: (spec) => [spec.url_key],
  files: (_spec, policy) => [policy.envFile],
  secretEnv: (spec) => (spec.admin_url_env ? [spec.admin_url_env] : []),
  managedValues: async (id, spec, { env }) => envManagedValues(id, [spec.url_key], env),
  compliance: { formats: (id, spec, ctx) => connectionUrlFindings(id, spec, REDIS_SCHEMES, ctx) },
  revocation: {
    cutOff: 'a new password on the server at once, then every connection of the user closed',
    replace: () => 'a new password at once (ACL SETUSER), then the hooks',
    noLockOnly: 'is its replacement (a new password on the server)',
    unchanged: 'replaced at once',
    planCutOff: (_id, spec, policy, current) =>
      recordOnlyCutOff(
        'a new password on the server at once (the replacement is the cut-off), then the connections the old one opened are closed',
        [policy.envFile],
        [spec.url_key],
        policy,
        current,
      ),
  },
  live: async (id, spec, ctx) => (await import('./rotate.js')).liveRedis(id, spec, ctx),
  draft: (proposal, rotateEvery) => [
    `    url_key: ${scalar(proposal.urlKey)}`,
    '    user: default               # the ACL user in the URL; "requirepass" for a server without ACL',
    `    rotate_every: ${scalar(rotateEvery)}`,
    '    after_change: []            # e.g. ["systemctl restart my-app"]: the app reads the URL at start',
  ],
};
