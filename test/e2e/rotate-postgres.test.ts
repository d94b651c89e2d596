import { existsSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { envValue, parseDotenv } from '../../src/core/dotenv.js';
import { CREDENTIAL_STEPS, ROTATION_STEPS } from '../../src/core/rotation/journal.js';
import { runSecrets } from '../helpers/cli.js';
import { makeDeployment, type TempDeployment } from '../helpers/deployment.js';
import { fakeAlnum } from '../helpers/fake-secrets.js';
import { createAppRole, startPostgres, type PostgresServer } from '../helpers/postgres.js';
import { BACKUP_ENV, BACKUP_POLICY } from '../helpers/rotation.js';
import { describeWithServers, freePort } from '../helpers/servers.js';

let server: PostgresServer;
let roles = 0;

/** A fresh role with its own database, and a deployment whose .env holds its URL among other lines. */
async function appDeployment(options: { strategy?: 'single' | 'alternating'; admin?: boolean; url?: string } = {}) {
  const role = `bot${++roles}`;
  const password = fakeAlnum(24);
  await createAppRole(server, role, password);
  const url = options.url ?? server.url(role, password, role);
  const env = `# trading bot\r\nexport DATABASE_URL=${url} # the app's database\r\nAPP_NAME='bot'\r\n`;
  const deployment = makeDeployment({
    files: { '.env': env },
    policy: {
      backup: BACKUP_POLICY,
      secrets: {
        database: {
          kind: 'postgres',
          url_key: 'DATABASE_URL',
          rotate_every: '90d',
          ...(options.strategy ? { strategy: options.strategy } : {}),
          ...(options.admin ? { admin_url_env: 'SECRETS_PG_ADMIN' } : {}),
          after_change: ['echo restarted >> hooks.log', 'env > hook-env.txt'],
        },
      },
    },
  });
  return { role, password, env, url, deployment };
}

const ADMIN_ENV = () => ({ ...BACKUP_ENV, SECRETS_PG_ADMIN: server.url('postgres', server.superPassword) });

function envUrl(deployment: TempDeployment): string {
  return envValue(parseDotenv(readFileSync(deployment.path('.env'), 'utf8'), '.env'), 'DATABASE_URL')!;
}

function credentialsOf(url: string): { user: string; password: string } {
  const parsed = new URL(url);
  return { user: decodeURIComponent(parsed.username), password: decodeURIComponent(parsed.password) };
}

function auditEntries(deployment: TempDeployment): Array<Record<string, unknown>> {
  return readFileSync(deployment.path('.secrets/audit.jsonl'), 'utf8')
    .trim()
    .split('\n')
    .map((line) => JSON.parse(line) as Record<string, unknown>);
}

describeWithServers(['postgres'], 'postgres kind on a real server', () => {
  beforeAll(async () => {
    server = await startPostgres();
  }, 60_000);
  afterAll(async () => {
    await server?.stop();
  });

  it('single: new password logs in, old refused, .env changed only there, the log never saw it', async () => {
    const { role, password, env, deployment } = await appDeployment();
    const before = await server.openSession(role, password, role);
    const result = await runSecrets(['rotate', 'database', '--yes'], { cwd: deployment.root, env: BACKUP_ENV });
    expect(result.code, result.stderr).toBe(0);
    const next = credentialsOf(envUrl(deployment));
    expect(next.user).toBe(role);
    expect(next.password).toMatch(/^[A-Za-z0-9][A-Za-z0-9._~-]{30,}[A-Za-z0-9]$/);
    expect(readFileSync(deployment.path('.env'), 'utf8')).toBe(env.replace(password, next.password));
    expect(await server.canLogin(role, next.password, role)).toBe(true);
    expect(await server.canLogin(role, password, role)).toBe(false);
    // A connection opened before the rotation keeps working (the server checks passwords at login only).
    expect((await before.query('SELECT 1 AS one')).rows[0]).toEqual({ one: 1 });
    // The statement log holds the ALTER ROLE with a verifier, never the password.
    const log = server.log();
    expect(log).toMatch(new RegExp(`ALTER ROLE "${role}" PASSWORD 'SCRAM-SHA-256\\$4096:`));
    expect(log.split(next.password).length - 1).toBe(0);
    for (const stream of [result.stdout, result.stderr]) expect(stream).not.toContain(next.password);
    const rotated = auditEntries(deployment).find((entry) => entry.action === 'rotated')!;
    expect(rotated.fingerprint).toMatch(/^hmac-sha256:[0-9a-f]{32}$/);
    expect(JSON.stringify(auditEntries(deployment))).not.toContain(next.password);
    expect(readFileSync(deployment.path('hooks.log'), 'utf8')).toBe('restarted\n');
    expect(readFileSync(deployment.path('hook-env.txt'), 'utf8')).not.toContain(next.password);
    expect(existsSync(deployment.path(`.secrets/pending/database.json`))).toBe(false);
  });

  it('alternating: the clone is created with the same memberships; the previous user keeps working', async () => {
    const { role, password, env, deployment } = await appDeployment({ strategy: 'alternating', admin: true });
    await server.sql(`CREATE ROLE ${role}_readers NOLOGIN`);
    await server.sql(`GRANT ${role}_readers TO ${role}`);
    const first = await runSecrets(['rotate', 'database', '--yes'], { cwd: deployment.root, env: ADMIN_ENV() });
    expect(first.code, first.stderr).toBe(0);
    const clone = credentialsOf(envUrl(deployment));
    expect(clone.user).toBe(`${role}_clone`);
    expect(readFileSync(deployment.path('.env'), 'utf8')).toBe(
      env.replace(`${role}:${password}@`, `${role}_clone:${clone.password}@`),
    );
    expect(await server.canLogin(clone.user, clone.password, role)).toBe(true);
    expect(await server.canLogin(role, password, role)).toBe(true);
    // The hooks never see the admin URL nor the database URL, under any name.
    const hookEnv = readFileSync(deployment.path('hook-env.txt'), 'utf8');
    expect(hookEnv).not.toContain(server.superPassword);
    expect(hookEnv).not.toContain(clone.password);
    expect(hookEnv).not.toMatch(/SECRETS_PG_ADMIN|DATABASE_URL/);
    const groups = await server.sql<{ name: string }>(
      `SELECT g.rolname AS name FROM pg_auth_members m JOIN pg_roles g ON g.oid = m.roleid
         JOIN pg_roles u ON u.oid = m.member WHERE u.rolname = $1 ORDER BY 1`,
      [clone.user],
    );
    expect(groups.map((row) => row.name)).toEqual([role, `${role}_readers`]);

    const second = await runSecrets(['rotate', 'database', '--yes'], { cwd: deployment.root, env: ADMIN_ENV() });
    expect(second.code, second.stderr).toBe(0);
    const back = credentialsOf(envUrl(deployment));
    expect(back.user).toBe(role);
    expect(back.password).not.toBe(password);
    expect(await server.canLogin(role, back.password, role)).toBe(true);
    expect(await server.canLogin(role, password, role)).toBe(false);
    expect(await server.canLogin(clone.user, clone.password, role)).toBe(true);
    expect(server.log().includes(clone.password) || server.log().includes(back.password)).toBe(false);
  });

  it('revoke: a new password at once and the sessions opened with the old one are ended', async () => {
    const { role, password, deployment } = await appDeployment();
    const held = await server.openSession(role, password, role);
    const result = await runSecrets(['revoke', 'database', '--yes', '--no-scan', '--reason', 'leaked'], {
      cwd: deployment.root,
      env: BACKUP_ENV,
    });
    expect(result.code, result.stderr).toBe(0);
    expect(result.stdout).toMatch(/ended 1 session\(s\) of bot\d+/);
    await expect(held.query('SELECT 1')).rejects.toThrow();
    const next = credentialsOf(envUrl(deployment));
    expect(await server.canLogin(role, next.password, role)).toBe(true);
    expect(await server.canLogin(role, password, role)).toBe(false);
  });

  it('check --live: proves the .env password logs in, and reports a change made outside secrets', async () => {
    const { role, deployment } = await appDeployment();
    const quiet = await runSecrets(['check', '--live'], { cwd: deployment.root });
    expect(quiet.stdout).not.toMatch(/live|logs in/);
    await server.sql(`ALTER ROLE ${role} PASSWORD '${fakeAlnum(30)}'`);
    const offline = await runSecrets(['check'], { cwd: deployment.root });
    expect(offline.stdout).not.toMatch(/no longer logs in/);
    const live = await runSecrets(['check', '--live'], { cwd: deployment.root });
    expect(live.code).toBe(2);
    expect(live.stdout).toMatch(
      /database: the password in \.env \(DATABASE_URL\) no longer logs in: someone changed it outside secrets/,
    );
    const notify = await runSecrets(['check', '--live', '--notify'], { cwd: deployment.root });
    expect(notify.code).toBe(3);
  });

  /** A role whose .env splits the connection into PGHOST, PGPORT, PGUSER, POSTGRES_PASSWORD and PGDATABASE. */
  async function splitDeployment(
    options: { strategy?: 'single' | 'alternating'; extra?: Record<string, unknown> } = {},
  ) {
    const role = `bot${++roles}`;
    const password = fakeAlnum(24);
    await createAppRole(server, role, password);
    const env =
      `# trading bot\r\nPGHOST=${server.host}\r\nexport PGPORT=${server.port} # the cluster\r\nPGUSER=${role}\r\n` +
      `POSTGRES_PASSWORD="${password}" # rotated by secrets\r\nPGDATABASE=${role}\r\nAPP_NAME='bot'\r\n`;
    const deployment = makeDeployment({
      files: { '.env': env },
      policy: {
        backup: BACKUP_POLICY,
        secrets: {
          database: {
            kind: 'postgres',
            host_key: 'PGHOST',
            port_key: 'PGPORT',
            user_key: 'PGUSER',
            password_key: 'POSTGRES_PASSWORD',
            dbname_key: 'PGDATABASE',
            rotate_every: '90d',
            ...(options.strategy ? { strategy: options.strategy, admin_url_env: 'SECRETS_PG_ADMIN' } : {}),
            ...(options.extra ?? {}),
          },
        },
      },
    });
    const value = (key: string) => envValue(parseDotenv(readFileSync(deployment.path('.env'), 'utf8'), '.env'), key)!;
    return { role, password, env, deployment, value };
  }

  it('split keys: only the value of the password key changes; the new password logs in, the old is refused', async () => {
    const { role, password, env, deployment, value } = await splitDeployment();
    const result = await runSecrets(['rotate', 'database', '--yes'], { cwd: deployment.root, env: BACKUP_ENV });
    expect(result.code, result.stderr).toBe(0);
    const next = value('POSTGRES_PASSWORD');
    expect(next).toMatch(/^[A-Za-z0-9][A-Za-z0-9._~-]{30,}[A-Za-z0-9]$/);
    expect(readFileSync(deployment.path('.env'), 'utf8')).toBe(env.replace(`"${password}"`, `"${next}"`));
    expect(await server.canLogin(role, next, role)).toBe(true);
    expect(await server.canLogin(role, password, role)).toBe(false);
    expect(server.log().split(next).length - 1).toBe(0);
    for (const stream of [result.stdout, result.stderr]) expect(stream).not.toContain(next);
    expect(JSON.stringify(auditEntries(deployment))).not.toContain(next);
    const live = await runSecrets(['check', '--live'], { cwd: deployment.root });
    expect(live.stdout).not.toMatch(/no longer logs in|could not prove/);
  });

  it('split keys, alternating: the user key and the password key change, nothing else', async () => {
    const { role, password, env, deployment, value } = await splitDeployment({ strategy: 'alternating' });
    const result = await runSecrets(['rotate', 'database', '--yes'], { cwd: deployment.root, env: ADMIN_ENV() });
    expect(result.code, result.stderr).toBe(0);
    const next = value('POSTGRES_PASSWORD');
    expect(value('PGUSER')).toBe(`${role}_clone`);
    expect(readFileSync(deployment.path('.env'), 'utf8')).toBe(
      env.replace(`PGUSER=${role}\r\n`, `PGUSER=${role}_clone\r\n`).replace(`"${password}"`, `"${next}"`),
    );
    expect(await server.canLogin(`${role}_clone`, next, role)).toBe(true);
    expect(await server.canLogin(role, password, role)).toBe(true);
  });

  it.each([
    ['url_key and password_key both', { url_key: 'DATABASE_URL' }, /not both/],
    ['password_key without user_key', { user_key: undefined }, /password_key needs user_key/],
  ])('split keys, %s: one line with file:line, exit 3, .env unchanged', async (_name, extra, message) => {
    const { env, deployment } = await splitDeployment({ extra });
    const result = await runSecrets(['rotate', 'database', '--yes'], { cwd: deployment.root, env: BACKUP_ENV });
    expect(result.code, result.stdout).toBe(3);
    expect(result.stderr.trim().split('\n')).toHaveLength(1);
    expect(result.stderr).toMatch(/secrets\.yaml:\d+/);
    expect(result.stderr).toMatch(message);
    expect(readFileSync(deployment.path('.env'), 'utf8')).toBe(env);
  });

  it('split keys, a port that is not a number: one line naming .env:line, exit 3, nothing changed', async () => {
    const { role, password, env, deployment } = await splitDeployment();
    const broken = env.replace(`PGPORT=${server.port}`, 'PGPORT=54x2');
    writeFileSync(deployment.path('.env'), broken, { mode: 0o600 });
    const result = await runSecrets(['rotate', 'database', '--yes'], { cwd: deployment.root, env: BACKUP_ENV });
    expect(result.code, result.stdout).toBe(3);
    expect(result.stderr.trim().split('\n')).toHaveLength(1);
    expect(result.stderr).toMatch(/\.env:3: PGPORT: the port is not a number/);
    expect(readFileSync(deployment.path('.env'), 'utf8')).toBe(broken);
    expect(await server.canLogin(role, password, role)).toBe(true);
  });

  it.each(['server-changed', 'swapped'] as const)(
    'split keys without dbname_key (the user name is the database), SIGKILL at %s, then --recover',
    async (step) => {
      const { role, deployment, value } = await splitDeployment({ extra: { dbname_key: undefined } });
      const killed = await runSecrets(['rotate', 'database', '--yes'], {
        cwd: deployment.root,
        env: { ...BACKUP_ENV, SECRETS_TEST_CRASH_AT: step },
      });
      expect(killed.code, killed.stderr).toBeNull();
      const recover = await runSecrets(['rotate', '--recover'], { cwd: deployment.root, env: BACKUP_ENV });
      expect(recover.code, recover.stderr).toBe(0);
      expect(await server.canLogin(role, value('POSTGRES_PASSWORD'), role)).toBe(true);
      expect(existsSync(deployment.path('.secrets/pending/database.json'))).toBe(false);
    },
  );

  const badInputs: Array<
    [
      string,
      () => Promise<{
        deployment: TempDeployment;
        env: string;
        role: string;
        password: string;
        extraEnv?: Record<string, string>;
      }>,
      RegExp,
    ]
  > = [
    [
      'server down',
      async () => {
        const port = await freePort();
        const app = await appDeployment({ url: `postgresql://botx:${fakeAlnum(20)}@127.0.0.1:${port}/botx` });
        return { ...app, role: 'botx', password: 'unused' };
      },
      /cannot be reached/,
    ],
    [
      'wrong admin credential',
      async () => {
        const app = await appDeployment({ admin: true });
        return { ...app, extraEnv: { SECRETS_PG_ADMIN: server.url('postgres', fakeAlnum(20)) } };
      },
      /the admin credential in \$SECRETS_PG_ADMIN does not log in as postgres/,
    ],
    [
      'role missing',
      async () => {
        const app = await appDeployment({ admin: true, url: server.url('ghost', fakeAlnum(20), 'postgres') });
        return { ...app, extraEnv: { SECRETS_PG_ADMIN: server.url('postgres', server.superPassword) } };
      },
      /role ghost does not exist/,
    ],
    [
      'an admin without the right to change the password',
      async () => {
        const app = await appDeployment({ admin: true });
        const weak = `weak${roles}`;
        const weakPassword = fakeAlnum(20);
        await server.sql(`CREATE ROLE ${weak} LOGIN PASSWORD '${weakPassword}'`);
        return { ...app, extraEnv: { SECRETS_PG_ADMIN: server.url(weak, weakPassword) } };
      },
      /role weak\d+ may not change the password of bot\d+/,
    ],
    [
      'an unparsable URL',
      async () => {
        const app = await appDeployment({ url: `postgresql://bot:${fakeAlnum(12)}@127.0.0.1:54x2/bot` });
        return { ...app, password: 'unused' };
      },
      /\.env:2: DATABASE_URL: cannot read the connection URL: the port is not a number/,
    ],
  ];
  it.each(badInputs)('%s: one line, exit 3, .env and server unchanged', async (_name, setup, message) => {
    const { deployment, env, role, password, extraEnv } = await setup();
    const result = await runSecrets(['rotate', 'database', '--yes'], {
      cwd: deployment.root,
      env: { ...BACKUP_ENV, ...(extraEnv ?? {}) },
    });
    expect(result.code, result.stdout).toBe(3);
    expect(result.stderr).toMatch(message);
    expect(result.stderr.trim().split('\n')).toHaveLength(1);
    expect(readFileSync(deployment.path('.env'), 'utf8')).toBe(env);
    if (password !== 'unused') expect(await server.canLogin(role, password, role)).toBe(true);
    expect(existsSync(deployment.path('.secrets/pending/database.json'))).toBe(false);
  });

  const steps = [...ROTATION_STEPS.slice(0, 1), ...CREDENTIAL_STEPS.slice(0, 2), ...ROTATION_STEPS.slice(1)];
  it.each(steps)('SIGKILL at %s, then --recover: the URL in .env logs in', async (step) => {
    const { role, password, deployment } = await appDeployment();
    const killed = await runSecrets(['rotate', 'database', '--yes'], {
      cwd: deployment.root,
      env: { ...BACKUP_ENV, SECRETS_TEST_CRASH_AT: step },
    });
    expect(killed.code, killed.stderr).toBeNull();
    if (step === 'persisted') {
      // Saved before the server is told: mode 600 in the 700 state folder, the server still on the old password.
      expect(statSync(deployment.path('.secrets/pending/database.json')).mode & 0o777).toBe(0o600);
      expect(statSync(deployment.path('.secrets/pending')).mode & 0o777).toBe(0o700);
      expect(await server.canLogin(role, password, role)).toBe(true);
    }
    if (step !== 'created') {
      const check = await runSecrets(['check'], { cwd: deployment.root });
      expect(check.stdout).toMatch(/database: a rotation of its postgres password was interrupted/);
    }
    const recover = await runSecrets(['rotate', '--recover'], { cwd: deployment.root, env: BACKUP_ENV });
    expect(recover.code, recover.stderr).toBe(0);
    const now = credentialsOf(envUrl(deployment));
    expect(await server.canLogin(now.user, now.password, role)).toBe(true);
    expect(
      existsSync(deployment.path('.secrets/pending')) ? readdirSync(deployment.path('.secrets/pending')) : [],
    ).toEqual([]);
    const again = await runSecrets(['rotate', 'database', '--yes'], { cwd: deployment.root, env: BACKUP_ENV });
    expect(again.code, again.stderr).toBe(0);
    const last = credentialsOf(envUrl(deployment));
    expect(await server.canLogin(last.user, last.password, role)).toBe(true);
  });
});
