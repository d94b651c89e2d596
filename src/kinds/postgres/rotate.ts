/**
 * The postgres kind (issue 13): the password of a database role, changed on the server for real.
 *
 *   create   the URL in .env read; the server reached with the current (or admin) credential;
 *            the role found and the right to change its password proven; a new password of
 *            32+ characters from [A-Za-z0-9-_.~]
 *   test     the pending credential saved (mode 600) BEFORE the server changes; ALTER ROLE with
 *            a SCRAM-SHA-256 verifier computed here (the plaintext never reaches the statement
 *            log); a fresh connection logs in with it: SELECT 1, current_user
 *   swap     only the password (and, alternating, the user) inside the URL changes
 *   abandon  a failed swap puts the previous password back on the server
 *   deliver  the pending record removed; after `revoke`, the role's older sessions ended
 *
 * strategy alternating (AWS's zero-downtime one): ROLE and ROLE_clone take turns, so the
 * credential the running application holds keeps working until the next rotation.
 */
import { dbPasswordBits, generateDbPassword, URL_SAFE_ALPHABET } from '../../core/credentials/db-password.js';
import { scramSha256Verifier } from '../../core/credentials/scram.js';
import { quoteIdent, quoteLiteral } from '../../core/credentials/sql.js';
import { SecretsError, errnoCode, isSecretsError } from '../../core/errors.js';
import type { PostgresSpec } from './schema.js';
import { POSTGRES_SCHEMES } from './index.js';
import type { ConnectionTarget, SqlSession } from '../../core/ports.js';
import { Secret } from '../../core/secret.js';
import { planEnvChange } from '../env-values.js';
import { postgresSource } from './source.js';
import type { Finding } from '../../core/checks/types.js';
import type { KindHandler, LiveCheckContext, RotationContext } from '../kind.js';
import {
  credentialPending,
  forgetPending,
  liveLoginFindings,
  persistPending,
  readAdminUrl,
  planCredentialRecovery,
  step,
  targetOf,
  timeoutOf,
  type CredentialPending,
} from '../server-credential.js';

const DEFAULTS = { port: 5432, database: '' };
export const CLONE_SUFFIX = '_clone';
/** A password the server refuses (a check_password_hook) is never retried as is: a fresh one, this many times. */
const SET_ATTEMPTS = 3;

export interface PostgresPending extends CredentialPending {
  /** alternating: the clone does not exist yet and is created by test(). */
  createClone?: boolean;
  /** The roles the base role is a member of (the clone gets the same, and the base role itself). */
  memberships?: string[];
}

/** Who changes the password: the admin role when the policy names one, else the role itself. */
function changerTarget(spec: PostgresSpec, ctx: RotationContext, pending: { url: CredentialPending['url'] }) {
  const admin = readAdminUrl(spec.admin_url_env, ctx.deps, POSTGRES_SCHEMES);
  const timeoutMs = timeoutOf(spec);
  if (admin) return { admin: true, target: targetOf(admin, admin, DEFAULTS, timeoutMs) };
  return { admin: false, target: targetOf(pending.url, pending.url, DEFAULTS, timeoutMs) };
}

function describe(target: ConnectionTarget): string {
  return `${target.user}@${target.host}:${target.port}`;
}

/** Opens the changer's session; each failure is one line saying what is wrong, nothing changed. */
async function openChanger(spec: PostgresSpec, ctx: RotationContext, url: CredentialPending['url'], key: string) {
  const { admin, target } = changerTarget(spec, ctx, { url });
  try {
    return { admin, target, session: await ctx.deps.postgres.connect(target) };
  } catch (error) {
    throw explainConnect(
      error,
      ctx.id,
      target,
      admin ? `the admin credential in $${spec.admin_url_env}` : `the password in ${key}`,
    );
  }
}

function explainConnect(error: unknown, id: string, target: ConnectionTarget, whose: string): SecretsError {
  if (!isSecretsError(error)) return new SecretsError('pg-other', `${id}: ${String(error)}; nothing was changed`);
  if (error.code === 'pg-unreachable')
    return new SecretsError(
      'pg-unreachable',
      `${id}: the database server at ${target.host}:${target.port} cannot be reached (${error.message.replace(/^[^:]*: /, '')}); nothing was changed`,
      {
        hint: 'check that Postgres runs and the host and port in the URL',
      },
    );
  if (error.code === 'pg-login-refused')
    return new SecretsError(
      'pg-login-refused',
      `${id}: ${whose} does not log in as ${target.user} (the server refused it); nothing was changed`,
      {
        hint: whose.startsWith('the admin')
          ? 'fix the admin URL'
          : 'someone changed it outside secrets, or the URL is wrong: run secrets check --live',
      },
    );
  if (error.code === 'pg-missing')
    return new SecretsError(
      'pg-missing',
      `${id}: ${error.message.replace(/^[^:]*: /, '')} at ${target.host}:${target.port}; nothing was changed`,
    );
  return new SecretsError(error.code, `${id}: ${error.message}; nothing was changed`);
}

async function close(session: SqlSession | undefined): Promise<void> {
  await session?.close().catch(() => undefined);
}

/** The role exists, can log in, and the changer may change its password. */
async function checkRole(
  session: SqlSession,
  role: string,
  id: string,
  target: ConnectionTarget,
): Promise<{ exists: boolean }> {
  const rows = await session.query<{ rolname: string; rolsuper: boolean; rolcanlogin: boolean }>(
    'SELECT rolname, rolsuper, rolcanlogin FROM pg_roles WHERE rolname = $1',
    [role],
  );
  if (rows.length === 0) return { exists: false };
  const [me] = await session.query<{ name: string; rolsuper: boolean; rolcreaterole: boolean }>(
    'SELECT current_user AS name, rolsuper, rolcreaterole FROM pg_roles WHERE rolname = current_user',
  );
  if (me && me.name !== role && !me.rolsuper && !(me.rolcreaterole && !rows[0]!.rolsuper)) {
    throw new SecretsError(
      'pg-denied',
      `${id}: role ${me.name} may not change the password of ${role} at ${target.host}:${target.port} (it needs CREATEROLE${rows[0]!.rolsuper ? ' and superuser' : ''}); nothing was changed`,
      { hint: `ALTER ROLE ${me.name} CREATEROLE as a superuser, or name another admin_url_env` },
    );
  }
  return { exists: true };
}

/** The roles `role` is a direct member of: the clone gets the same. */
async function membershipsOf(session: SqlSession, role: string): Promise<string[]> {
  const rows = await session.query<{ name: string }>(
    `SELECT g.rolname AS name FROM pg_auth_members m
       JOIN pg_roles g ON g.oid = m.roleid JOIN pg_roles u ON u.oid = m.member
      WHERE u.rolname = $1 ORDER BY 1`,
    [role],
  );
  return rows.map((row) => row.name);
}

function baseRole(user: string): string {
  return user.endsWith(CLONE_SUFFIX) ? user.slice(0, -CLONE_SUFFIX.length) : user;
}

/** The role the rotation sets: the same one (single), or the other of the pair (alternating). */
function nextRole(spec: PostgresSpec, user: string): string {
  if (spec.strategy === 'single') return user;
  const base = baseRole(user);
  return user === base ? `${base}${CLONE_SUFFIX}` : base;
}

/** ALTER ROLE (or CREATE ROLE for a new clone) with the verifier: the only statement that carries it. */
async function setPassword(
  session: SqlSession,
  pending: PostgresPending,
  role: string,
  password: Secret,
): Promise<void> {
  const verifier = quoteLiteral(scramSha256Verifier(password));
  if (pending.createClone) {
    const base = baseRole(role);
    const groups = [base, ...(pending.memberships ?? [])].map(quoteIdent).join(', ');
    await session.query(`CREATE ROLE ${quoteIdent(role)} LOGIN PASSWORD ${verifier} IN ROLE ${groups}`);
    pending.createClone = false;
  } else {
    await session.query(`ALTER ROLE ${quoteIdent(role)} PASSWORD ${verifier}`);
  }
}

/** A fresh connection with the credential: SELECT 1 and current_user. */
async function proveLogin(ctx: RotationContext, target: ConnectionTarget): Promise<string> {
  const session = await ctx.deps.postgres.connect(target);
  try {
    const [row] = await session.query<{ one: number; who: string }>('SELECT 1 AS one, current_user AS who');
    if (row?.one !== 1 || row.who !== target.user)
      throw new SecretsError(
        'pg-test-failed',
        `the new login answered as ${row?.who ?? 'nobody'}, expected ${target.user}`,
      );
    return row.who;
  } finally {
    await close(session);
  }
}

export const postgresHandler: KindHandler<PostgresSpec, PostgresPending> = {
  kind: 'postgres',

  outline: (spec, policy) => ({
    files: [policy.envFile],
    targets: [
      spec.password_key
        ? `${spec.password_key}${spec.strategy === 'alternating' ? ` and ${spec.user_key}` : ''} (their values only)`
        : `${postgresSource(spec).label} (the password${spec.strategy === 'alternating' ? ' and user' : ''} only)`,
    ],
    source: `generated: ${spec.length} characters from a ${URL_SAFE_ALPHABET.length}-symbol alphabet (~${dbPasswordBits(spec.length)} bits); ALTER ROLE with a SCRAM-SHA-256 verifier${spec.strategy === 'alternating' ? '; alternating ROLE / ROLE_clone' : ''}`,
    test: 'a fresh connection with the new credential: SELECT 1 and current_user',
  }),

  async create(spec, ctx, current) {
    const source = postgresSource(spec);
    const { url } = source.read(ctx.policy, current);
    if (!url.user) throw new SecretsError('url-no-user', `${source.label}: the URL names no user; nothing was changed`);
    if (spec.strategy === 'alternating' && !spec.admin_url_env)
      throw new SecretsError(
        'pg-needs-admin',
        `${ctx.id}: strategy alternating needs admin_url_env (a role that may create and alter the pair); nothing was changed`,
        {
          where: ctx.policy.path,
        },
      );
    const role = nextRole(spec, url.user);
    const { target, session } = await openChanger(spec, ctx, url, source.label);
    let createClone = false;
    let memberships: string[] | undefined;
    try {
      const base = await checkRole(session, baseRole(url.user), ctx.id, target);
      if (!base.exists)
        throw new SecretsError(
          'pg-role-missing',
          `${ctx.id}: role ${baseRole(url.user)} does not exist at ${describe(target)}; nothing was changed`,
          {
            hint: `check the user in ${spec.user_key ?? source.label}`,
          },
        );
      if (role !== url.user) {
        createClone = !(await checkRole(session, role, ctx.id, target)).exists;
        if (createClone) memberships = await membershipsOf(session, baseRole(role));
      } else if (url.user !== baseRole(url.user) && !(await checkRole(session, url.user, ctx.id, target)).exists) {
        throw new SecretsError('pg-role-missing', `${ctx.id}: role ${url.user} does not exist; nothing was changed`);
      }
    } finally {
      await close(session);
    }
    let password = generateDbPassword(spec.length);
    // Never set an unchanged password: it re-salts the verifier and breaks poolers' caches.
    while (url.password?.equals(password)) password = generateDbPassword(spec.length);
    const pending: PostgresPending = {
      ...credentialPending(source, url, { user: role, password }),
      createClone,
      ...(memberships ? { memberships } : {}),
    };
    ctx.say(
      `new password for ${role}: ${password.length} characters${createClone ? ` (role ${role} will be created with the memberships of ${baseRole(role)})` : ''}`,
    );
    return pending;
  },

  async test(spec, pending, ctx) {
    const { target: changer } = changerTarget(spec, ctx, pending);
    let session: SqlSession | undefined;
    try {
      session = await ctx.deps.postgres.connect(changer);
    } catch (error) {
      throw explainConnect(error, ctx.id, changer, 'the changing credential');
    }
    try {
      for (let attempt = 1; ; attempt++) {
        await persistPending(ctx, 'postgres', pending);
        try {
          await setPassword(session, pending, pending.user, pending.password);
          break;
        } catch (error) {
          // The server refused this password (a check_password_hook such as passwordcheck raises
          // 22023 invalid_parameter_value): never send it again; a fresh one is made.
          const refused = isSecretsError(error) && errnoCode(error.cause) === '22023' && attempt < SET_ATTEMPTS;
          if (!refused) {
            await forgetPending(ctx);
            if (isSecretsError(error) && error.code === 'pg-denied')
              throw new SecretsError(
                'pg-denied',
                `${ctx.id}: ${error.message.replace(/^[^:]*: /, '')}: ${changer.user} may not change the password of ${pending.user}; nothing was changed`,
              );
            throw isSecretsError(error)
              ? new SecretsError(error.code, `${ctx.id}: ${error.message}; nothing was changed`)
              : error;
          }
          const fresh = generateDbPassword(spec.length);
          Object.assign(
            pending,
            credentialPending(postgresSource(spec), pending.url, { user: pending.user, password: fresh }),
            {
              rotation: pending.rotation,
            },
          );
          ctx.say('the server refused the new password; a fresh one is made (a refused one is never sent again)');
        }
      }
      pending.serverChanged = true;
      const [now] = await session.query<{ now: Date }>('SELECT now() AS now');
      if (now) pending.changedAt = new Date(now.now).toISOString();
    } finally {
      await close(session);
    }
    step(ctx, 'server-changed');
    const target = targetOf(pending.url, { user: pending.user, password: pending.password }, DEFAULTS, timeoutOf(spec));
    try {
      const who = await proveLogin(ctx, target);
      return `a fresh connection as ${who} with the new password: SELECT 1 ok, current_user = ${who}`;
    } catch (error) {
      await this.abandon!(spec, pending, ctx).catch(() => undefined);
      const reason = isSecretsError(error) ? error.message : String(error);
      throw new SecretsError(
        'pg-test-failed',
        `${ctx.id}: the new password does not log in (${reason}); the previous one was put back, nothing else changed`,
      );
    }
  },

  planChanges: (spec, pending, current, ctx) => {
    // From the URL in the file now (read again under the lock): only its credentials change.
    const source = postgresSource(spec);
    const { url } = source.read(ctx.policy, current);
    return planEnvChange(ctx.policy, current, source.values(url, { user: pending.user, password: pending.password }));
  },

  async abandon(spec, pending, ctx) {
    // single: the server holds the new password, .env the old one again: put the old one back.
    // alternating: the previous user still works; the unused one keeps a password nobody knows.
    if (pending.serverChanged && spec.strategy === 'single' && pending.previousPassword) {
      const { target } = changerTarget(spec, ctx, pending);
      const changer = target.user === pending.user ? { ...target, password: pending.password } : target;
      const session = await ctx.deps.postgres.connect(changer);
      try {
        await session.query(
          `ALTER ROLE ${quoteIdent(pending.user)} PASSWORD ${quoteLiteral(scramSha256Verifier(pending.previousPassword))}`,
        );
      } finally {
        await close(session);
      }
    }
    await forgetPending(ctx);
  },

  async deliver(spec, pending, ctx) {
    await forgetPending(ctx);
    if (!ctx.revoking) return undefined;
    return endSessions(spec, pending, ctx);
  },

  async recover(spec, record, ctx) {
    const current = new Map([
      [ctx.policy.envFile, await ctx.deps.files.readText(ctx.policy.envFile).catch(() => undefined)],
    ]);
    const source = postgresSource(spec);
    const { url } = source.read(ctx.policy, current);
    return planCredentialRecovery(source, record, ctx, async (user, password) => {
      if (!password) return false;
      try {
        await proveLogin(ctx, targetOf(url, { user, password }, DEFAULTS, timeoutOf(spec)));
        return true;
      } catch (error) {
        if (isSecretsError(error) && error.code === 'pg-unreachable')
          throw new SecretsError(
            'recover-unreachable',
            `${ctx.id}: cannot recover while the database server is unreachable (${error.message}); run secrets rotate --recover again once it is up`,
            { exitCode: 4 },
          );
        return false;
      }
    });
  },
};

/**
 * revoke: a changed password closes no connection an attacker already holds. Ends every session
 * of the revoked role that started before the change (alternating: the previous role also gets a
 * password nobody knows). Returns how many were ended.
 */
export async function endSessions(spec: PostgresSpec, pending: PostgresPending, ctx: RotationContext): Promise<string> {
  const { target } = changerTarget(spec, ctx, pending);
  const changer =
    target.user === pending.previousUser ? { ...target, user: pending.user, password: pending.password } : target;
  const session = await ctx.deps.postgres.connect(changer);
  try {
    const notes: string[] = [];
    if (pending.previousUser !== pending.user) {
      const throwaway = generateDbPassword(spec.length);
      await session.query(
        `ALTER ROLE ${quoteIdent(pending.previousUser)} PASSWORD ${quoteLiteral(scramSha256Verifier(throwaway))}`,
      );
      notes.push(`${pending.previousUser} got a password nobody knows`);
    }
    const rows = await session.query<{ ended: boolean }>(
      `SELECT pg_terminate_backend(pid) AS ended FROM pg_stat_activity
        WHERE usename = $1 AND pid <> pg_backend_pid() AND backend_start < $2::timestamptz`,
      [pending.previousUser, pending.changedAt ?? new Date().toISOString()],
    );
    const ended = rows.filter((row) => row.ended).length;
    notes.unshift(`ended ${ended} session(s) of ${pending.previousUser} opened before the new password`);
    return notes.join('; ');
  } finally {
    await close(session);
  }
}
/** `secrets check --live`: the URL in .env logs in now (SELECT 1). */
export function livePostgres(id: string, spec: PostgresSpec, ctx: LiveCheckContext): Promise<Finding[]> {
  return liveLoginFindings(id, postgresSource(spec), ctx, 'role', async (url) => {
    const session = await ctx.deps.postgres.connect(targetOf(url, url, DEFAULTS, timeoutOf(spec)));
    try {
      await session.query('SELECT 1');
    } finally {
      await close(session);
    }
  });
}
