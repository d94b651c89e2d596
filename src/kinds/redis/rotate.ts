/**
 * The redis kind (issue 13): the password of a Redis ACL user (Redis 6+), or the legacy
 * `requirepass`, changed on the server for real.
 *
 * ACL user:  ACL SETUSER u >new (old and new both valid) → AUTH u new on a fresh connection →
 *            swap .env → hooks → ACL SETUSER u <old → ACL SAVE (aclfile) or CONFIG REWRITE.
 *            Existing connections and every client that has not re-read .env keep working
 *            throughout: no refused login at any moment.
 * requirepass: CONFIG SET requirepass new → AUTH on a fresh connection → swap → hooks →
 *            CONFIG REWRITE, with the plain warning that redis.conf then holds it in clear text.
 */
import { withCredentials } from '../../core/credentials/connection-url.js';
import { dbPasswordBits, generateDbPassword, URL_SAFE_ALPHABET } from '../../core/credentials/db-password.js';
import { SecretsError, isSecretsError } from '../../core/errors.js';
import type { RedisSpec } from './schema.js';
import { REDIS_SCHEMES } from './index.js';
import type { ConnectionTarget, RedisSession } from '../../core/ports.js';
import { Secret } from '../../core/secret.js';
import { planEnvChange } from '../env-values.js';
import type { Finding } from '../../core/checks/types.js';
import type { KindHandler, LiveCheckContext, RotationContext } from '../kind.js';
import {
  credentialPending,
  forgetPending,
  liveLoginFindings,
  persistPending,
  readAdminUrl,
  readEnvUrl,
  planCredentialRecovery,
  urlSource,
  step,
  targetOf,
  timeoutOf,
  type CredentialPending,
} from '../server-credential.js';

const DEFAULTS = { port: 6379, database: '' };
const REQUIREPASS = 'requirepass';

export interface RedisPending extends CredentialPending {
  /** Set once the old password is no longer accepted. */
  oldRemoved?: boolean;
}

const legacy = (spec: RedisSpec) => spec.user === REQUIREPASS;

/** The ACL user the URL logs in as: its own user, or `default` for `redis://:password@…`. */
function aclUser(spec: RedisSpec, urlUser: string): string {
  return legacy(spec) ? '' : urlUser || 'default';
}

function changerTarget(
  spec: RedisSpec,
  ctx: RotationContext,
  pending: Pick<CredentialPending, 'url'>,
  password?: Secret,
) {
  const admin = readAdminUrl(spec.admin_url_env, ctx.deps, REDIS_SCHEMES);
  const timeoutMs = timeoutOf(spec);
  if (admin) return { admin: true, target: targetOf(admin, admin, DEFAULTS, timeoutMs) };
  const user = legacy(spec) ? '' : pending.url.user;
  return {
    admin: false,
    target: targetOf(pending.url, { user, password: password ?? pending.url.password }, DEFAULTS, timeoutMs),
  };
}

function explain(error: unknown, id: string, target: ConnectionTarget, whose: string): SecretsError {
  if (!isSecretsError(error)) return new SecretsError('redis-other', `${id}: ${String(error)}; nothing was changed`);
  const reason = error.message.replace(/^[^:]*: /, '');
  if (error.code === 'redis-unreachable')
    return new SecretsError(
      'redis-unreachable',
      `${id}: the Redis server at ${target.host}:${target.port} cannot be reached (${reason}); nothing was changed`,
      {
        hint: 'check that Redis runs and the host and port in the URL',
      },
    );
  if (error.code === 'redis-login-refused')
    return new SecretsError(
      'redis-login-refused',
      `${id}: ${whose} does not log in${target.user ? ` as ${target.user}` : ''} (${reason}); nothing was changed`,
      {
        hint: whose.startsWith('the admin')
          ? 'fix the admin URL'
          : 'someone changed it outside secrets, or the URL is wrong: run secrets check --live',
      },
    );
  return new SecretsError(error.code, `${id}: ${reason}; nothing was changed`);
}

async function open(ctx: RotationContext, target: ConnectionTarget, id: string, whose: string): Promise<RedisSession> {
  try {
    return await ctx.deps.redis.connect(target);
  } catch (error) {
    throw explain(error, id, target, whose);
  }
}

async function close(session: RedisSession | undefined): Promise<void> {
  await session?.close().catch(() => undefined);
}

/** ACL support, the user, and the right to change it: each missing one is exit 3 before anything changes. */
async function checkServer(
  spec: RedisSpec,
  session: RedisSession,
  user: string,
  id: string,
  target: ConnectionTarget,
): Promise<void> {
  if (legacy(spec)) {
    try {
      await session.command(['CONFIG', 'GET', 'requirepass']);
    } catch (error) {
      throw new SecretsError(
        'redis-denied',
        `${id}: this connection may not change requirepass (${isSecretsError(error) ? error.message.replace(/^[^:]*: /, '') : String(error)}); nothing was changed`,
        {
          hint: 'the CONFIG command is needed: allow it, or name admin_url_env',
        },
      );
    }
    return;
  }
  try {
    await session.command(['ACL', 'WHOAMI']);
  } catch (error) {
    if (isSecretsError(error) && (error.code === 'redis-missing' || /unknown command/i.test(error.message)))
      throw new SecretsError(
        'redis-no-acl',
        `${id}: the Redis server at ${target.host}:${target.port} has no ACL support (Redis before 6); nothing was changed`,
        {
          hint: 'set user: requirepass in the policy for a server with only requirepass, or upgrade Redis',
        },
      );
    throw error;
  }
  let found: unknown;
  try {
    found = await session.command(['ACL', 'GETUSER', user]);
  } catch (error) {
    throw new SecretsError(
      'redis-denied',
      `${id}: ${target.user || 'this connection'} may not manage ACL users (${isSecretsError(error) ? error.message.replace(/^[^:]*: /, '') : String(error)}); nothing was changed`,
      {
        hint: 'give it +acl|setuser (and +acl|save or +config|rewrite), or name admin_url_env',
      },
    );
  }
  if (found === null || found === undefined)
    throw new SecretsError(
      'redis-user-missing',
      `${id}: ACL user ${user} does not exist at ${target.host}:${target.port}; nothing was changed`,
    );
}

/** Writes the change where a restart finds it: ACL SAVE with an aclfile, else CONFIG REWRITE. */
async function persist(spec: RedisSpec, session: RedisSession): Promise<string> {
  if (!legacy(spec)) {
    const aclfile = (await session.command(['CONFIG', 'GET', 'aclfile'])) as string[];
    if (aclfile[1]) {
      await session.command(['ACL', 'SAVE']);
      return 'ACL SAVE: the aclfile holds the new password (as a SHA-256 hash)';
    }
  }
  try {
    await session.command(['CONFIG', 'REWRITE']);
  } catch (error) {
    const reason = isSecretsError(error) ? error.message.replace(/^[^:]*: /, '') : String(error);
    return `WARNING: CONFIG REWRITE was refused (${reason}): the server has no config file to write, so a restart brings the old password back`;
  }
  return legacy(spec)
    ? 'CONFIG REWRITE: redis.conf holds the new requirepass IN CLEAR TEXT (move to an ACL user: ACL SETUSER app on >… ~* +@all, user: app in the policy, then an aclfile)'
    : 'CONFIG REWRITE: redis.conf holds the new password (as a SHA-256 hash)';
}

async function proveLogin(ctx: RotationContext, target: ConnectionTarget): Promise<void> {
  const session = await ctx.deps.redis.connect(target);
  try {
    const pong = await session.command(['PING']);
    if (pong !== 'PONG') throw new SecretsError('redis-test-failed', `PING answered ${String(pong)}`);
  } finally {
    await close(session);
  }
}

export const redisHandler: KindHandler<RedisSpec, RedisPending> = {
  kind: 'redis',

  outline: (spec, policy) => ({
    files: [policy.envFile],
    targets: [`${spec.url_key} (the password only)`],
    source: `generated: ${spec.length} characters from a ${URL_SAFE_ALPHABET.length}-symbol alphabet (~${dbPasswordBits(spec.length)} bits); ${legacy(spec) ? 'CONFIG SET requirepass' : `ACL SETUSER ${spec.user} >new, the old one removed after the hooks`}`,
    test: 'AUTH with the new password on a fresh connection, then PING',
  }),

  async create(spec, ctx, current) {
    const { url, where } = readEnvUrl(ctx.policy, current, spec.url_key, REDIS_SCHEMES);
    const user = aclUser(spec, url.user);
    if (!legacy(spec) && url.user && url.user !== spec.user)
      throw new SecretsError(
        'redis-user-mismatch',
        `${spec.url_key} logs in as ${url.user}, but the policy rotates ACL user ${spec.user}; nothing was changed`,
        { where },
      );
    const { admin, target } = changerTarget(spec, ctx, { url });
    const session = await open(
      ctx,
      target,
      ctx.id,
      admin ? `the admin credential in $${spec.admin_url_env}` : `the password in ${spec.url_key}`,
    );
    try {
      await checkServer(spec, session, user, ctx.id, target);
    } finally {
      await close(session);
    }
    let password = generateDbPassword(spec.length);
    while (url.password?.equals(password)) password = generateDbPassword(spec.length);
    ctx.say(`new password for ${legacy(spec) ? 'requirepass' : `ACL user ${user}`}: ${password.length} characters`);
    return credentialPending(urlSource(spec.url_key, REDIS_SCHEMES), url, { user: url.user, password });
  },

  async test(spec, pending, ctx) {
    const user = aclUser(spec, pending.user);
    const { target: changer } = changerTarget(spec, ctx, pending);
    const session = await open(ctx, changer, ctx.id, 'the changing credential');
    try {
      await persistPending(ctx, 'redis', pending);
      try {
        if (legacy(spec)) await session.command(['CONFIG', 'SET', 'requirepass', pending.password.reveal()]);
        else await session.command(['ACL', 'SETUSER', user, `>${pending.password.reveal()}`]);
      } catch (error) {
        await forgetPending(ctx);
        throw explain(error, ctx.id, changer, 'the changing credential');
      }
      pending.serverChanged = true;
    } finally {
      await close(session);
    }
    step(ctx, 'server-changed');
    const target = targetOf(
      pending.url,
      { user: legacy(spec) ? '' : pending.url.user, password: pending.password },
      DEFAULTS,
      timeoutOf(spec),
    );
    try {
      await proveLogin(ctx, target);
    } catch (error) {
      await this.abandon!(spec, pending, ctx).catch(() => undefined);
      const reason = isSecretsError(error) ? error.message : String(error);
      throw new SecretsError(
        'redis-test-failed',
        `${ctx.id}: the new password does not log in (${reason}); the server was put back, nothing else changed`,
      );
    }
    return legacy(spec)
      ? 'a fresh connection: AUTH with the new requirepass, PING → PONG'
      : `a fresh connection: AUTH ${user} with the new password, PING → PONG (the old one still works until after the hooks)`;
  },

  planChanges: (spec, pending, current, ctx) => {
    const { url } = readEnvUrl(ctx.policy, current, spec.url_key, REDIS_SCHEMES);
    return planEnvChange(ctx.policy, current, {
      [spec.url_key]: new Secret(withCredentials(url, { password: pending.password })),
    });
  },

  async verify(spec, pending, ctx) {
    // After the swap and the hooks: every reader has the new password, so the old one goes.
    const user = aclUser(spec, pending.user);
    const { target } = changerTarget(spec, ctx, pending, pending.password);
    const session = await open(ctx, target, ctx.id, 'the new credential');
    try {
      let removed = '';
      if (!legacy(spec) && pending.previousPassword && !pending.previousPassword.equals(pending.password)) {
        await session.command(['ACL', 'SETUSER', user, `<${pending.previousPassword.reveal()}`]);
        pending.oldRemoved = true;
        step(ctx, 'old-removed');
        removed = `ACL SETUSER ${user} <old: the old password no longer logs in; `;
      }
      const persisted = await persist(spec, session);
      if (persisted.startsWith('WARNING') || legacy(spec)) ctx.deps.output.err(`secrets: ${ctx.id}: ${persisted}\n`);
      return `${removed}${persisted}`;
    } finally {
      await close(session);
    }
  },

  async abandon(spec, pending, ctx) {
    if (pending.serverChanged) {
      const user = aclUser(spec, pending.user);
      const { target } = changerTarget(
        spec,
        ctx,
        pending,
        legacy(spec) || pending.oldRemoved ? pending.password : undefined,
      );
      const session = await ctx.deps.redis.connect(target);
      try {
        if (legacy(spec)) {
          if (pending.previousPassword)
            await session.command(['CONFIG', 'SET', 'requirepass', pending.previousPassword.reveal()]);
        } else {
          const args = ['ACL', 'SETUSER', user];
          if (pending.oldRemoved && pending.previousPassword) args.push(`>${pending.previousPassword.reveal()}`);
          args.push(`<${pending.password.reveal()}`);
          await session.command(args);
        }
      } finally {
        await close(session);
      }
    }
    await forgetPending(ctx);
  },

  async deliver(spec, pending, ctx) {
    await forgetPending(ctx);
    if (!ctx.revoking) return undefined;
    return endConnections(spec, pending, ctx);
  },

  async recover(spec, record, ctx) {
    const current = new Map([
      [ctx.policy.envFile, await ctx.deps.files.readText(ctx.policy.envFile).catch(() => undefined)],
    ]);
    const { url } = readEnvUrl(ctx.policy, current, spec.url_key, REDIS_SCHEMES);
    const user = aclUser(spec, url.user);
    const plan = await planCredentialRecovery(
      urlSource(spec.url_key, REDIS_SCHEMES),
      record,
      ctx,
      async (urlUser, password) => {
        if (!password) return false;
        try {
          await proveLogin(
            ctx,
            targetOf(url, { user: legacy(spec) ? '' : urlUser, password }, DEFAULTS, timeoutOf(spec)),
          );
          return true;
        } catch (error) {
          if (isSecretsError(error) && error.code === 'redis-unreachable')
            throw new SecretsError(
              'recover-unreachable',
              `${ctx.id}: cannot recover while the Redis server is unreachable (${error.message}); run secrets rotate --recover again once it is up`,
              { exitCode: 4 },
            );
          return false;
        }
      },
    );
    const previous = record.previous.password;
    // Rolled forward to the new password: the old one, still valid beside it, goes now.
    if (legacy(spec) || plan.winner !== 'pending' || !previous || previous.equals(record.pending.password)) return plan;
    plan.finish = async () => {
      const { target } = changerTarget(spec, ctx, { url }, record.pending.password);
      const session = await ctx.deps.redis.connect({ ...target, ...(spec.admin_url_env ? {} : { user: url.user }) });
      try {
        // Already gone when the crash came after verify() removed it.
        const removed = await session
          .command(['ACL', 'SETUSER', user, `<${previous.reveal()}`])
          .then(() => true)
          .catch((error: unknown) => {
            if (isSecretsError(error) && /does not exist/.test(error.message)) return false;
            throw error;
          });
        return `${removed ? 'the old password removed' : 'the old password was already removed'}; ${await persist(spec, session)}`;
      } finally {
        await close(session);
      }
    };
    return plan;
  },
};

/** revoke: CLIENT KILL USER for every connection of the user but ours; returns how many. */
export async function endConnections(spec: RedisSpec, pending: RedisPending, ctx: RotationContext): Promise<string> {
  const { target } = changerTarget(spec, ctx, pending, pending.password);
  const session = await ctx.deps.redis.connect(target);
  try {
    const user = aclUser(spec, pending.user) || 'default';
    const killed = await session.command(['CLIENT', 'KILL', 'USER', user, 'SKIPME', 'yes']);
    return `closed ${Number(killed)} connection(s) of ${user}`;
  } finally {
    await close(session);
  }
}
/** `secrets check --live`: the URL in .env logs in now (AUTH, PING). */
export function liveRedis(id: string, spec: RedisSpec, ctx: LiveCheckContext): Promise<Finding[]> {
  return liveLoginFindings(id, urlSource(spec.url_key, REDIS_SCHEMES), ctx, 'user', async (url) => {
    const user = legacy(spec) ? '' : url.user;
    const session = await ctx.deps.redis.connect(
      targetOf(url, { user, password: url.password }, DEFAULTS, timeoutOf(spec)),
    );
    try {
      await session.command(['PING']);
    } finally {
      await close(session);
    }
  });
}
