import type { Finding } from '../../core/checks/types.js';
import { durationMs, parseDuration } from '../../core/duration.js';
import { isSecretsError } from '../../core/errors.js';
import type { PostgresSpec, RedisSpec } from '../../core/policy-schema.js';
import type { CheckInput } from '../check.js';
import type { Deps } from '../deps.js';
import { POSTGRES_SCHEMES } from '../rotation/kinds/postgres.js';
import { REDIS_SCHEMES } from '../rotation/kinds/redis.js';
import { readEnvUrl, targetOf, timeoutOf } from '../rotation/kinds/server-credential.js';
import { pendingPath, readPendingCredentials } from '../state/pending-credentials.js';

/**
 * `secrets check`'s offline half: a server credential left pending by an interrupted rotation
 * (its password is in the state folder, and .env and the server may disagree) is critical until
 * `secrets rotate --recover`. Only a directory listing: the daily check stays fast.
 */
export async function checkPendingCredentials(input: CheckInput, deps: Deps): Promise<Finding[]> {
  const { policy } = input;
  try {
    return (await readPendingCredentials(policy.stateDir, deps)).map((record) => ({
      check: 'journal',
      severity: 'critical',
      secret: record.secret,
      path: pendingPath(policy.stateDir, record.secret),
      message: `${record.secret}: a rotation of its ${record.kind} password was interrupted (started ${record.startedAt}); .env and the server may disagree: run secrets rotate --recover`,
    }));
  } catch (error) {
    return [
      {
        check: 'journal',
        severity: 'critical',
        message: isSecretsError(error) ? error.toLine() : String(error),
      },
    ];
  }
}

/**
 * `secrets check --live`: proves each database and cache credential in .env logs in right now
 * (a fresh connection: SELECT 1 / AUTH + PING), and reports drift — a password someone changed
 * outside secrets; an htpasswd secret with a probe must still refuse a request without a
 * password. Off by default: the daily check never opens a network connection.
 */
export async function checkLiveCredentials(input: CheckInput, deps: Deps): Promise<Finding[]> {
  const { policy } = input;
  const findings: Finding[] = [];
  const text = await deps.files.readText(policy.envFile).catch(() => undefined);
  const current = new Map([[policy.envFile, text]]);
  for (const { id, spec } of policy.secrets) {
    if (spec.kind === 'htpasswd' && spec.probe) {
      // Only a hash is kept, so the password cannot be tried: the probe proves the guard is up.
      const { url, expect_old: expected, timeout } = spec.probe;
      try {
        const status = await deps.prober.status(url, undefined, { timeoutMs: durationMs(parseDuration(timeout)!) });
        if (status !== expected)
          findings.push({
            check: 'live',
            severity: 'critical',
            secret: id,
            message: `${id}: ${url} answers ${status} without a password, expected ${expected}: Basic Auth is not guarding it`,
          });
      } catch (error) {
        findings.push({
          check: 'live',
          severity: 'critical',
          secret: id,
          message: `${id}: could not probe ${url} (${isSecretsError(error) ? error.message : String(error)})`,
        });
      }
      continue;
    }
    if (spec.kind !== 'postgres' && spec.kind !== 'redis') continue;
    const postgres = spec.kind === 'postgres';
    let where = policy.envFile;
    try {
      const { url, where: at } = readEnvUrl(policy, current, spec.url_key, postgres ? POSTGRES_SCHEMES : REDIS_SCHEMES);
      where = at;
      const typed = spec as PostgresSpec | RedisSpec;
      const user = !postgres && (spec as RedisSpec).user === 'requirepass' ? '' : url.user;
      const target = targetOf(
        url,
        { user, password: url.password },
        { port: postgres ? 5432 : 6379, database: '' },
        timeoutOf(typed),
      );
      const session = postgres ? await deps.postgres.connect(target) : await deps.redis.connect(target);
      try {
        if ('query' in session) await session.query('SELECT 1');
        else await session.command(['PING']);
      } finally {
        await session.close();
      }
    } catch (error) {
      const code = isSecretsError(error) ? error.code : '';
      const refused = code.endsWith('-login-refused');
      findings.push({
        check: 'live',
        severity: 'critical',
        secret: id,
        path: where,
        message: refused
          ? `${id}: the password in .env (${spec.url_key}) no longer logs in: someone changed it outside secrets (or the ${postgres ? 'role' : 'user'} was removed); set a known one with secrets rotate ${id}${postgres ? ' (admin_url_env)' : ''}, or fix .env`
          : code.endsWith('-unreachable')
            ? `${id}: could not prove the credential in ${spec.url_key}: the server cannot be reached (${isSecretsError(error) ? error.message : String(error)})`
            : `${id}: ${isSecretsError(error) ? error.toLine() : String(error)}`,
      });
    }
  }
  return findings;
}
