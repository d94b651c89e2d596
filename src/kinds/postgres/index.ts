/**
 * `kind: postgres`: a database role's password, changed on the server for real (docs/postgres-redis.md).
 * Rotation and recovery: ./rotate.ts (listed in ../rotations.ts); the live check imports it on call,
 * so node-postgres stays off check's start-up path.
 */
import { recordOnlyCutOff } from '../cut-off.js';
import { scalar } from '../draft-yaml.js';
import { envManagedValues } from '../env-values.js';
import type { Kind } from '../kind.js';
import { connectionUrlFindings } from '../server-credential-kind.js';
import { postgresSchema, type PostgresSpec } from './schema.js';

export type { PostgresSpec };

export const POSTGRES_SCHEMES = ['postgresql', 'postgres'];

export const postgresKind: Kind<PostgresSpec> = {
  name: 'postgres',
  schema: postgresSchema,
  envKeys: (spec) => [spec.url_key],
  files: (_spec, policy) => [policy.envFile],
  secretEnv: (spec) => (spec.admin_url_env ? [spec.admin_url_env] : []),
  managedValues: async (id, spec, { env }) => envManagedValues(id, [spec.url_key], env),
  compliance: { formats: (id, spec, ctx) => connectionUrlFindings(id, spec, POSTGRES_SCHEMES, ctx) },
  revocation: {
    cutOff: 'a new password on the server at once, then every session of the role opened before it ended',
    replace: () => 'a new password at once (ALTER ROLE), then the hooks',
    noLockOnly: 'is its replacement (a new password on the server)',
    unchanged: 'replaced at once',
    planCutOff: (_id, spec, policy, current) =>
      recordOnlyCutOff(
        'a new password on the server at once (the replacement is the cut-off), then the sessions the old one opened are ended',
        [policy.envFile],
        [spec.url_key],
        policy,
        current,
      ),
  },
  live: async (id, spec, ctx) => (await import('./rotate.js')).livePostgres(id, spec, ctx),
  draft: (proposal, rotateEvery) => [
    `    url_key: ${scalar(proposal.urlKey)}`,
    '    strategy: single            # alternating: ROLE and ROLE_clone take turns (needs admin_url_env)',
    '    # admin_url_env: SECRETS_PG_ADMIN   # a role with CREATEROLE, in the environment, never in .env',
    `    rotate_every: ${scalar(rotateEvery)}`,
    '    after_change: []            # e.g. ["systemctl restart my-app"]: the app reads the URL at start',
  ],
};
