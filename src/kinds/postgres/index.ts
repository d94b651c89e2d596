/**
 * `kind: postgres`: a database role's password, changed on the server for real (docs/postgres-redis.md).
 * Rotation and recovery: ./rotate.ts (listed in ../rotations.ts); the live check imports it on call,
 * so node-postgres stays off check's start-up path.
 */
import { recordOnlyCutOff } from '../cut-off.js';
import { scalar } from '../draft-yaml.js';
import { envManagedValues } from '../env-values.js';
import type { Finding } from '../../core/checks/types.js';
import { MIN_DB_PASSWORD_LENGTH } from '../../core/credentials/db-password.js';
import { envValue } from '../../core/dotenv.js';
import type { FormatCheckContext, Kind } from '../kind.js';
import { connectionUrlFindings } from '../server-credential-kind.js';
import { postgresSchema, type PostgresSpec } from './schema.js';

export type { PostgresSpec };

export const POSTGRES_SCHEMES = ['postgresql', 'postgres'];

/** The key holding the password: the URL's (DATABASE_URL when the policy names none), or password_key. */
const passwordKeyOf = (spec: PostgresSpec): string => spec.password_key ?? spec.url_key ?? 'DATABASE_URL';
/** The keys a rotation writes: the password's, and the user's under alternating (split keys). */
const writtenKeys = (spec: PostgresSpec): string[] =>
  spec.password_key && spec.strategy === 'alternating' ? [spec.password_key, spec.user_key!] : [passwordKeyOf(spec)];

/** Split keys: the password key must hold 32+ characters, as the URL's password must. */
function passwordKeyFindings(id: string, spec: PostgresSpec, ctx: FormatCheckContext): Finding[] {
  const key = spec.password_key!;
  const value = ctx.env ? envValue(ctx.env, key) : undefined;
  if (value === undefined || value.length >= MIN_DB_PASSWORD_LENGTH) return [];
  const problem =
    value === ''
      ? `${key} holds no password`
      : `${key} has ${value.length} characters; rotate it (secrets rotate ${id}) for ${spec.length}`;
  return [
    { check: 'format', severity: 'critical', secret: id, path: ctx.policy.envFile, message: `${id}: ${problem}` },
  ];
}

export const postgresKind: Kind<PostgresSpec> = {
  name: 'postgres',
  schema: postgresSchema,
  envKeys: writtenKeys,
  files: (_spec, policy) => [policy.envFile],
  secretEnv: (spec) => (spec.admin_url_env ? [spec.admin_url_env] : []),
  managedValues: async (id, spec, { env }) => envManagedValues(id, [passwordKeyOf(spec)], env),
  compliance: {
    formats: (id, spec, ctx) =>
      spec.password_key
        ? passwordKeyFindings(id, spec, ctx)
        : connectionUrlFindings(id, { url_key: passwordKeyOf(spec), length: spec.length }, POSTGRES_SCHEMES, ctx),
  },
  revocation: {
    cutOff: 'a new password on the server at once, then every session of the role opened before it ended',
    replace: () => 'a new password at once (ALTER ROLE), then the hooks',
    noLockOnly: 'is its replacement (a new password on the server)',
    unchanged: 'replaced at once',
    planCutOff: (_id, spec, policy, current) =>
      recordOnlyCutOff(
        'a new password on the server at once (the replacement is the cut-off), then the sessions the old one opened are ended',
        [policy.envFile],
        writtenKeys(spec),
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
