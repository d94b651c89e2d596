import { existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { afterEach, expect, it } from 'vitest';
import { envValue, parseDotenv } from '../../src/core/dotenv.js';
import { CREDENTIAL_STEPS, ROTATION_STEPS } from '../../src/core/rotation/journal.js';
import { runSecrets } from '../helpers/cli.js';
import { makeDeployment, type TempDeployment } from '../helpers/deployment.js';
import { fakeAlnum } from '../helpers/fake-secrets.js';
import { startRedis, type RedisServer } from '../helpers/redis.js';
import { BACKUP_ENV, BACKUP_POLICY } from '../helpers/rotation.js';
import { describeWithServers, freePort } from '../helpers/servers.js';

let server: RedisServer | undefined;
afterEach(async () => {
  await server?.stop();
  server = undefined;
});

function deploymentFor(url: string, spec: Record<string, unknown> = {}) {
  const env = `DATABASE_URL=unused\nREDIS_URL=${url}\n# cache\n`;
  const deployment = makeDeployment({
    files: { '.env': env },
    policy: {
      backup: BACKUP_POLICY,
      secrets: {
        cache: {
          kind: 'redis',
          url_key: 'REDIS_URL',
          rotate_every: '90d',
          after_change: ['echo restarted >> hooks.log'],
          ...spec,
        },
      },
    },
  });
  return { env, deployment };
}

function redisPassword(deployment: TempDeployment): string {
  const url = envValue(parseDotenv(readFileSync(deployment.path('.env'), 'utf8'), '.env'), 'REDIS_URL')!;
  return decodeURIComponent(new URL(url).password);
}

describeWithServers(['redis'], 'redis kind on a real server', () => {
  it('ACL user: new password works, old refused after the swap, ACL SAVE, open connections untouched', async () => {
    const password = fakeAlnum(24);
    server = await startRedis({ users: { app: password } });
    const { env, deployment } = deploymentFor(server.url('app', password), { user: 'app' });
    const held = await server.openSession('app', password);
    const result = await runSecrets(['rotate', 'cache', '--yes'], { cwd: deployment.root, env: BACKUP_ENV });
    expect(result.code, result.stderr).toBe(0);
    const next = redisPassword(deployment);
    expect(next).toHaveLength(40);
    expect(readFileSync(deployment.path('.env'), 'utf8')).toBe(env.replace(password, next));
    expect(await server.canLogin('app', next)).toBe(true);
    expect(await server.canLogin('app', password)).toBe(false);
    expect(await held.call('PING')).toBe('PONG');
    // ACL SAVE wrote the aclfile: a restart keeps the new password (stored as a hash, never in clear).
    expect(server.acl()).toMatch(/user app on #[0-9a-f]{64}/);
    expect(server.acl()).not.toContain(next);
    expect(result.stdout).toMatch(/ACL SAVE/);
    for (const stream of [result.stdout, result.stderr]) expect(stream).not.toContain(next);
  });

  it('the default user in redis://:password@host', async () => {
    const password = fakeAlnum(24);
    server = await startRedis({ users: { default: password } });
    const url = `redis://:${password}@127.0.0.1:${server.port}/0`;
    const { env, deployment } = deploymentFor(url);
    const result = await runSecrets(['rotate', 'cache', '--yes'], { cwd: deployment.root, env: BACKUP_ENV });
    expect(result.code, result.stderr).toBe(0);
    const next = redisPassword(deployment);
    expect(readFileSync(deployment.path('.env'), 'utf8')).toBe(env.replace(password, next));
    expect(await server.canLogin('default', next)).toBe(true);
    expect(await server.canLogin('default', password)).toBe(false);
  });

  it('legacy requirepass: CONFIG SET, CONFIG REWRITE, and the clear-text warning', async () => {
    const password = fakeAlnum(24);
    server = await startRedis({ requirepass: password });
    const { env, deployment } = deploymentFor(`redis://:${password}@127.0.0.1:${server.port}/0`, {
      user: 'requirepass',
    });
    const result = await runSecrets(['rotate', 'cache', '--yes'], { cwd: deployment.root, env: BACKUP_ENV });
    expect(result.code, result.stderr).toBe(0);
    const next = redisPassword(deployment);
    expect(readFileSync(deployment.path('.env'), 'utf8')).toBe(env.replace(password, next));
    expect(await server.canLogin('', next)).toBe(true);
    expect(await server.canLogin('', password)).toBe(false);
    expect(server.conf()).toContain(`requirepass "${next}"`);
    expect(result.stderr).toMatch(/redis\.conf holds the new requirepass IN CLEAR TEXT.*ACL user/);
    expect(result.stderr).not.toContain(next);
  });

  it('revoke: the connections the old password opened are closed', async () => {
    const password = fakeAlnum(24);
    server = await startRedis({ users: { app: password } });
    const { deployment } = deploymentFor(server.url('app', password), { user: 'app' });
    const held = await server.openSession('app', password);
    const result = await runSecrets(['revoke', 'cache', '--yes', '--no-scan'], {
      cwd: deployment.root,
      env: BACKUP_ENV,
    });
    expect(result.code, result.stderr).toBe(0);
    expect(result.stdout).toMatch(/closed 1 connection\(s\) of app/);
    await expect(held.call('PING')).rejects.toThrow();
    expect(await server.canLogin('app', password)).toBe(false);
    expect(await server.canLogin('app', redisPassword(deployment))).toBe(true);
  });

  it('a Redis without ACL support: one line, exit 3, .env and server unchanged', async () => {
    const password = fakeAlnum(24);
    server = await startRedis({ requirepass: password, withoutAcl: true });
    const { env, deployment } = deploymentFor(`redis://:${password}@127.0.0.1:${server.port}/0`);
    const result = await runSecrets(['rotate', 'cache', '--yes'], { cwd: deployment.root, env: BACKUP_ENV });
    expect(result.code, result.stdout).toBe(3);
    expect(result.stderr).toMatch(/has no ACL support \(Redis before 6\).*user: requirepass/);
    expect(result.stderr.trim().split('\n')).toHaveLength(1);
    expect(readFileSync(deployment.path('.env'), 'utf8')).toBe(env);
    expect(await server.canLogin('', password)).toBe(true);
  });

  it.each([
    ['server down', async () => `redis://app:${fakeAlnum(20)}@127.0.0.1:${await freePort()}/0`, /cannot be reached/],
    [
      'a wrong password',
      async () => `redis://app:${fakeAlnum(20)}@127.0.0.1:${server!.port}/0`,
      /does not log in as app/,
    ],
    [
      'a user that does not exist',
      async () => server!.url('admin', server!.admin!.password).replace('admin:', 'admin:'),
      /ACL user ghost does not exist/,
    ],
    [
      'an unparsable URL',
      async () => `redis://app:${fakeAlnum(20)}@127.0.0.1:6x79/0`,
      /\.env:2: REDIS_URL: cannot read the connection URL/,
    ],
  ])('%s: one line, exit 3, .env and server unchanged', async (name, urlOf, message) => {
    const password = fakeAlnum(24);
    server = await startRedis({ users: { app: password } });
    const url = await urlOf();
    const { env, deployment } = deploymentFor(url, {
      user: name === 'a user that does not exist' ? 'ghost' : 'app',
      ...(name === 'a user that does not exist' ? { admin_url_env: 'REDIS_ADMIN' } : {}),
    });
    const ghostEnv =
      name === 'a user that does not exist' ? { REDIS_ADMIN: server.url('admin', server.admin!.password) } : {};
    const finalEnv =
      name === 'a user that does not exist'
        ? env.replace(url, `redis://ghost:${fakeAlnum(20)}@127.0.0.1:${server.port}/0`)
        : env;
    if (finalEnv !== env) makeDeploymentEnv(deployment, finalEnv);
    const result = await runSecrets(['rotate', 'cache', '--yes'], {
      cwd: deployment.root,
      env: { ...BACKUP_ENV, ...ghostEnv },
    });
    expect(result.code, result.stdout).toBe(3);
    expect(result.stderr).toMatch(message);
    expect(result.stderr.trim().split('\n')).toHaveLength(1);
    expect(readFileSync(deployment.path('.env'), 'utf8')).toBe(finalEnv);
    expect(await server.canLogin('app', password)).toBe(true);
  });

  const steps = [
    ...ROTATION_STEPS.slice(0, 1),
    ...CREDENTIAL_STEPS.slice(0, 2),
    ...ROTATION_STEPS.slice(1, 6),
    CREDENTIAL_STEPS[2],
    ...ROTATION_STEPS.slice(6),
  ];
  it.each(steps)(
    'SIGKILL at %s, then --recover: the URL in .env logs in and only one password is left',
    async (step) => {
      const password = fakeAlnum(24);
      server = await startRedis({ users: { app: password } });
      const { deployment } = deploymentFor(server.url('app', password), { user: 'app' });
      const killed = await runSecrets(['rotate', 'cache', '--yes'], {
        cwd: deployment.root,
        env: { ...BACKUP_ENV, SECRETS_TEST_CRASH_AT: step },
      });
      expect(killed.code, killed.stderr).toBeNull();
      const recover = await runSecrets(['rotate', '--recover'], { cwd: deployment.root, env: BACKUP_ENV });
      expect(recover.code, recover.stderr).toBe(0);
      const now = redisPassword(deployment);
      expect(await server.canLogin('app', now)).toBe(true);
      const passwords = (await server.command(['ACL', 'GETUSER', 'app'])) as unknown[];
      const list = passwords[passwords.indexOf('passwords') + 1] as string[];
      expect(list).toHaveLength(1);
      expect(
        existsSync(deployment.path('.secrets/pending')) ? readdirSync(deployment.path('.secrets/pending')) : [],
      ).toEqual([]);
    },
  );
});

function makeDeploymentEnv(deployment: TempDeployment, env: string): void {
  writeFileSync(deployment.path('.env'), env);
}
