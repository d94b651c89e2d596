/**
 * What the postgres and redis kinds share: the connection URL in .env (read and edited in
 * place), the pending credential saved before the server changes, and the recovery that tries
 * pending, current and previous and keeps whichever the server accepts.
 */
import { randomUUID } from 'node:crypto';
import { parseConnectionUrl, withCredentials, type ConnectionUrl } from '../core/credentials/connection-url.js';
import { durationMs, parseDuration } from '../core/duration.js';
import { envValue, parseDotenv } from '../core/dotenv.js';
import type { Finding } from '../core/checks/types.js';
import { ExitCode, SecretsError, isSecretsError } from '../core/errors.js';
import type { Policy } from '../core/policy.js';
import type { ConnectionTarget } from '../core/ports.js';
import type { RotationStep } from '../core/rotation/journal.js';
import { Secret } from '../core/secret.js';
import type { KindDeps as Deps } from './kind.js';
import { removePendingCredential, savePendingCredential, type PendingCredential } from './pending-credentials.js';
import { planEnvChange } from './env-values.js';
import type { CurrentFiles, FileChange, LiveCheckContext, PendingRotation, RotationContext } from './kind.js';

export interface EnvUrl {
  url: ConnectionUrl;
  /** file:line of the key, for messages. */
  where: string;
}

/** The connection URL under `key` in the env file; a missing key or an unreadable URL is exit 3 with file:line. */
export function readEnvUrl(policy: Policy, current: CurrentFiles, key: string, schemes: string[]): EnvUrl {
  const text = current.get(policy.envFile);
  if (text === undefined)
    throw new SecretsError('env-missing', `the env file does not exist; nothing was changed`, {
      where: policy.envFile,
    });
  const doc = parseDotenv(text, policy.envFile);
  const entry = [...doc.entries].reverse().find((candidate) => candidate.key === key);
  if (!entry || envValue(doc, key) === undefined)
    throw new SecretsError('env-key-missing', `${key} is not set in the env file; nothing was changed`, {
      where: policy.envFile,
      hint: `add ${key}=${schemes[0]}://user:password@host:port/… to it`,
    });
  const where = `${policy.envFile}:${entry.line}`;
  return { url: parseConnectionUrl(entry.value, { schemes, key, where }), where };
}

/**
 * Where a server credential lives in .env: one connection URL (url_key), or split keys (the
 * postgres kind's password_key/user_key/…). Both give the same ConnectionUrl description, so the
 * connection, recovery and live-check code is one path.
 */
export interface CredentialSource {
  /** The key messages name: the URL's key, or the password's. */
  label: string;
  /** The env file's credential as a connection description; exit 3 with file:line when unreadable. */
  read(policy: Policy, current: CurrentFiles): EnvUrl;
  /** The env values that make .env hold `next` (only the credential's bytes change). */
  values(url: ConnectionUrl, next: { user: string; password: Secret }): Record<string, Secret>;
  /** The values `values` replaces, for the audit trail's fingerprints. */
  previous(url: ConnectionUrl): Record<string, Secret | undefined>;
}

/** The credential inside one connection URL under `key`. */
export function urlSource(key: string, schemes: string[]): CredentialSource {
  return {
    label: key,
    read: (policy, current) => readEnvUrl(policy, current, key, schemes),
    values: (url, next) => ({ [key]: new Secret(withCredentials(url, next)) }),
    previous: (url) => ({ [key]: new Secret(url.text) }),
  };
}

/** A URL in an environment variable (admin_url_env): never in .env, never in argv. */
export function readAdminUrl(
  envName: string | undefined,
  deps: Pick<Deps, 'env'>,
  schemes: string[],
): ConnectionUrl | undefined {
  if (!envName) return undefined;
  const text = deps.env[envName];
  if (text === undefined || text === '')
    throw new SecretsError('admin-url-missing', `${envName} is not set: it must hold the admin connection URL`, {
      hint: `export ${envName}=${schemes[0]}://admin:…@host:port/… in the environment secrets runs in`,
    });
  return parseConnectionUrl(text, { schemes, key: `$${envName}` });
}

export function timeoutOf(spec: { timeout: string }): number {
  return durationMs(parseDuration(spec.timeout)!);
}

export function targetOf(
  url: ConnectionUrl,
  credentials: { user: string; password: Secret | undefined },
  defaults: { port: number; database: string },
  timeoutMs: number,
): ConnectionTarget {
  const sslmode = url.params.sslmode ?? 'disable';
  const tls: ConnectionTarget['tls'] =
    url.scheme === 'rediss' || sslmode === 'verify-ca' || sslmode === 'verify-full'
      ? 'verify'
      : sslmode === 'require'
        ? 'require'
        : false;
  return {
    host: url.host,
    port: url.port ?? defaults.port,
    user: credentials.user,
    password: credentials.password,
    database: url.path || defaults.database,
    tls,
    timeoutMs,
  };
}

/** The pending side of a server credential rotation (postgres, redis). */
export interface CredentialPending extends PendingRotation {
  rotation: string;
  url: ConnectionUrl;
  user: string;
  password: Secret;
  previousUser: string;
  previousPassword: Secret | undefined;
  /** Set by test() once the server holds the new credential. */
  serverChanged?: boolean;
  /** The server's clock when it changed (postgres: sessions started before it are ended by revoke). */
  changedAt?: string;
}

export function credentialPending(
  source: CredentialSource,
  url: ConnectionUrl,
  next: { user: string; password: Secret },
): CredentialPending {
  return {
    next: source.values(url, next),
    previous: source.previous(url),
    rotation: randomUUID(),
    url,
    user: next.user,
    password: next.password,
    previousUser: url.user,
    previousPassword: url.password,
  };
}

/** Saves the pending credential (mode 600) before the server is told: a crash can never lose it. */
export async function persistPending(ctx: RotationContext, kind: string, pending: CredentialPending): Promise<void> {
  await savePendingCredential(
    ctx.policy.stateDir,
    {
      version: 1,
      secret: ctx.id,
      kind,
      rotation: pending.rotation,
      startedAt: ctx.deps.clock.now().toISOString(),
      pending: { user: pending.user, password: pending.password },
      previous: { user: pending.previousUser, password: pending.previousPassword },
    },
    ctx.deps,
  );
  step(ctx, 'persisted');
}

/** A crash point for the crash tests (SECRETS_TEST_CRASH_AT), as the engine's own steps are. */
export function step(ctx: { deps: Pick<Deps, 'onRotationStep'> }, name: RotationStep): void {
  ctx.deps.onRotationStep?.(name);
}

export async function forgetPending(ctx: RotationContext): Promise<void> {
  await removePendingCredential(ctx.policy.stateDir, ctx.id, ctx.deps);
}

/** Does this credential log in now? true/false; a server that cannot be reached throws. */
export type LoginCheck = (user: string, password: Secret | undefined) => Promise<boolean>;

/** What recovery found, for the engine to apply (write, hooks, audit): the kind only decides. */
export interface CredentialRecoveryPlan {
  winner: 'pending' | 'current' | 'previous';
  /** The env file with the winning credential, when it does not hold it already. */
  change?: FileChange;
  /** The URL before and after, when the winner is the pending credential (a finished rotation). */
  rotated?: { next: Secret; previous: Secret };
  /** What the operator reads. */
  detail: string;
  /** After the write and the hooks: the kind's last step (Redis: the old password removed). */
  finish?(): Promise<string | undefined>;
}

/**
 * After a crash: tries the pending credential, the one .env holds now and the one it replaced —
 * in that order, as AWS's setSecret does — and plans to make .env hold the first the server
 * accepts, so .env and the server agree. None accepted: exit 4, and the record stays for a human.
 */
export async function planCredentialRecovery(
  source: CredentialSource,
  record: PendingCredential,
  ctx: RotationContext,
  logsIn: LoginCheck,
): Promise<CredentialRecoveryPlan> {
  const { policy, deps } = ctx;
  const current = new Map([[policy.envFile, await deps.files.readText(policy.envFile).catch(() => undefined)]]);
  const key = source.label;
  const { url } = source.read(policy, current);
  const candidates: Array<{ name: CredentialRecoveryPlan['winner']; user: string; password: Secret | undefined }> = [
    { name: 'pending', user: record.pending.user, password: record.pending.password },
    { name: 'current', user: url.user, password: url.password },
    { name: 'previous', user: record.previous.user, password: record.previous.password },
  ];
  let winner: (typeof candidates)[number] | undefined;
  for (const candidate of candidates) {
    if (await logsIn(candidate.user, candidate.password)) {
      winner = candidate;
      break;
    }
  }
  if (!winner) {
    throw new SecretsError(
      'recover-no-login',
      `${ctx.id}: an interrupted rotation left a pending credential, but neither it, nor the one in .env, nor the one before logs in`,
      {
        exitCode: ExitCode.mustAct,
        hint: `the pending password is in ${policy.stateDir}/pending/${ctx.id}.json (mode 600): set it on the server by hand, put it in ${key}, then remove that file`,
      },
    );
  }
  const sameAsEnv =
    winner.user === url.user &&
    (winner.password === undefined ? url.password === undefined : url.password?.equals(winner.password) === true);
  if (sameAsEnv)
    return {
      winner: winner.name,
      detail: `the credential in ${key} logs in (${winner.name === 'pending' ? 'the new one, already swapped' : 'nothing had changed for the applications'})`,
    };
  const values = source.values(url, { user: winner.user, password: winner.password ?? new Secret('') });
  const [change] = planEnvChange(policy, current, values);
  const rotated = { next: values[key]!, previous: source.previous(url)[key] ?? new Secret('') };
  return {
    winner: winner.name,
    change: change!,
    ...(winner.name === 'pending' ? { rotated } : {}),
    detail: `${key} now holds the ${winner.name} credential, the one the server accepts (rolled ${winner.name === 'pending' ? 'forward' : 'back'})`,
  };
}

/**
 * `secrets check --live` for a connection URL in .env: a fresh login right now. A refused one is
 * drift (someone changed the password outside secrets); an unreachable server is reported too.
 */
export async function liveLoginFindings(
  id: string,
  source: CredentialSource,
  ctx: LiveCheckContext,
  noun: string,
  login: (url: ConnectionUrl) => Promise<void>,
): Promise<Finding[]> {
  const { policy } = ctx;
  let where = policy.envFile;
  try {
    const { url, where: at } = source.read(policy, new Map([[policy.envFile, ctx.envText]]));
    where = at;
    await login(url);
    return [];
  } catch (error) {
    const code = isSecretsError(error) ? error.code : '';
    const message = code.endsWith('-login-refused')
      ? `${id}: the password in .env (${source.label}) no longer logs in: someone changed it outside secrets (or the ${noun} was removed); set a known one with secrets rotate ${id}, or fix .env`
      : code.endsWith('-unreachable')
        ? `${id}: could not prove the credential in ${source.label}: the server cannot be reached (${isSecretsError(error) ? error.message : String(error)})`
        : `${id}: ${isSecretsError(error) ? error.toLine() : String(error)}`;
    return [{ check: 'live', severity: 'critical', secret: id, path: where, message }];
  }
}
