import { readdirSync, readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { runSecrets } from '../helpers/cli.js';
import { makeDeployment } from '../helpers/deployment.js';
import { startDingtalkServer } from '../helpers/dingtalk-server.js';
import { fakeDingtalkSecret } from '../helpers/fake-secrets.js';
import { BACKUP_ENV, BACKUP_POLICY } from '../helpers/rotation.js';

async function dingtalkDeployment(extraPolicy: Record<string, unknown> = {}) {
  const server = await startDingtalkServer();
  const oldRobot = server.addRobot();
  const newRobot = server.addRobot();
  const env = `# MT5-CRS\nDINGTALK_WEBHOOK_URL='${oldRobot.url}'\nDINGTALK_SECRET=${oldRobot.secret}\nDASHBOARD_URL=https://dash.example.invalid/\n`;
  const deployment = makeDeployment({
    files: { '.env': env },
    policy: {
      backup: BACKUP_POLICY,
      secrets: { dingtalk: { kind: 'dingtalk', rotate_every: '90d', timeout: '2s' } },
      notify: { dingtalk: 'dingtalk', dashboard_url_key: 'DASHBOARD_URL' },
      ...extraPolicy,
    },
  });
  return { server, oldRobot, newRobot, env, deployment };
}

describe('secrets rotate through bin/secrets', () => {
  it('rotates the DingTalk pair from stdin, never prompting without a terminal, and exits 0', async () => {
    const { server, oldRobot, newRobot, env, deployment } = await dingtalkDeployment();
    const result = await runSecrets(['rotate', 'dingtalk'], {
      cwd: deployment.root,
      env: BACKUP_ENV,
      input: `DINGTALK_WEBHOOK_URL=${newRobot.url}\nDINGTALK_SECRET=${newRobot.secret}\n`,
    });
    expect(result.code, result.stderr).toBe(0);
    expect(result.stdout).toMatch(
      /1\/4 create[\s\S]*2\/4 test[\s\S]*signed test message accepted[\s\S]*3\/4 swap[\s\S]*4\/4 record[\s\S]*rotated: dingtalk/,
    );
    expect(readFileSync(deployment.path('.env'), 'utf8')).toBe(
      env
        .replace(/'http[^']*'/, `'${newRobot.url}'`)
        .replace(/DINGTALK_SECRET=\S+/, `DINGTALK_SECRET=${newRobot.secret}`),
    );
    expect(server.accepted()).toHaveLength(2);
    // The encrypted backup of the old .env was taken before the write; no plaintext copy outlives the run.
    const backups = readdirSync(deployment.path('backups'));
    expect(backups).toHaveLength(1);
    expect(readFileSync(deployment.path(`backups/${backups[0]}`)).includes(Buffer.from(oldRobot.secret!))).toBe(false);
    expect(readdirSync(deployment.path('.secrets/rotation'))).toEqual([]);
    for (const text of [result.stdout, result.stderr]) {
      expect(text).not.toContain(newRobot.secret!);
      expect(text).not.toContain(newRobot.accessToken);
    }
  });

  it('exits 3 when the backup cannot be made (no passphrase), before anything is written', async () => {
    const { server, env, newRobot, deployment } = await dingtalkDeployment();
    const result = await runSecrets(['rotate', 'dingtalk'], {
      cwd: deployment.root,
      input: `DINGTALK_WEBHOOK_URL=${newRobot.url}\nDINGTALK_SECRET=${newRobot.secret}\n`,
    });
    expect(result.code).toBe(3);
    expect(result.stderr).toMatch(/SECRETS_BACKUP_PASSPHRASE/);
    expect(readFileSync(deployment.path('.env'), 'utf8')).toBe(env);
    expect(server.accepted()).toHaveLength(1); // the test send only; the swap never started
  });

  it('exits 3 with .env byte-identical when the test send is refused', async () => {
    const { env, newRobot, deployment } = await dingtalkDeployment();
    const result = await runSecrets(['rotate', 'dingtalk'], {
      cwd: deployment.root,
      env: BACKUP_ENV,
      input: `DINGTALK_WEBHOOK_URL=${newRobot.url}\nDINGTALK_SECRET=${fakeDingtalkSecret()}\n`,
    });
    expect(result.code).toBe(3);
    expect(result.stderr).toMatch(/310000|signature or timestamp/);
    expect(readFileSync(deployment.path('.env'), 'utf8')).toBe(env);
  });

  it('--dry-run --json describes the plan and changes nothing', async () => {
    const { env, deployment } = await dingtalkDeployment();
    const result = await runSecrets(['rotate', '--dry-run', '--json'], { cwd: deployment.root, env: BACKUP_ENV });
    expect(result.code, result.stderr).toBe(0);
    const outcome = JSON.parse(result.stdout) as {
      dryRun: boolean;
      plan: Array<{ id: string; outline: { targets: string[] } }>;
    };
    expect(outcome.dryRun).toBe(true);
    expect(outcome.plan[0]).toMatchObject({
      id: 'dingtalk',
      outline: { targets: ['DINGTALK_WEBHOOK_URL', 'DINGTALK_SECRET'] },
    });
    expect(readFileSync(deployment.path('.env'), 'utf8')).toBe(env);
  });

  it('rotate --recover with nothing interrupted says so and exits 0', async () => {
    const { deployment } = await dingtalkDeployment();
    const result = await runSecrets(['rotate', '--recover'], { cwd: deployment.root, env: BACKUP_ENV });
    expect(result).toMatchObject({ code: 0, stdout: 'nothing to recover: no rotation was interrupted\n' });
  });
});

describe('secrets notify and check --notify', () => {
  it('notify --test sends one signed message with the current pair', async () => {
    const { server, oldRobot, deployment } = await dingtalkDeployment();
    const result = await runSecrets(['notify', '--test'], { cwd: deployment.root });
    expect(result.code, result.stderr).toBe(0);
    expect(result.stdout).not.toContain(oldRobot.accessToken);
    expect(server.accepted().map((message) => message.accessToken)).toEqual([oldRobot.accessToken]);
  });

  it('notify --test exits 3 when DingTalk refuses', async () => {
    const { server, deployment } = await dingtalkDeployment();
    server.answerNext({ errcode: 300005, errmsg: 'token is not exist' });
    const result = await runSecrets(['notify', '--test'], { cwd: deployment.root });
    expect(result.code).toBe(3);
    expect(result.stderr).toMatch(/does not know this access_token/);
  });

  it('check --notify posts the problems with the dashboard link, never a value', async () => {
    const { server, oldRobot, deployment } = await dingtalkDeployment();
    const result = await runSecrets(['check', '--notify'], { cwd: deployment.root });
    expect(result.code).toBe(2);
    const [message] = server.accepted();
    expect(message).toBeDefined();
    expect(message!.text).toMatch(/\[test-deploy\] secrets check: critical/);
    expect(message!.text).toMatch(/dingtalk: no rotation recorded/);
    expect(message!.text).toContain('[Open the dashboard](https://dash.example.invalid/)');
    expect(message!.text).not.toContain(oldRobot.secret!);
    expect(message!.text).not.toContain(oldRobot.accessToken);
  });

  it.each([
    ['the robot is down', { status: 500, body: 'down' }, /HTTP 500/],
    ['the keyword is missing', { errcode: 310000, errmsg: 'keywords not in content' }, /310000|keyword/i],
  ] as const)(
    'check --notify says plainly when the send fails (%s) and exits with the check code',
    async (_name, answer, why) => {
      const { server, deployment } = await dingtalkDeployment();
      server.answerNext(answer, answer, answer, answer);
      const result = await runSecrets(['check', '--notify'], { cwd: deployment.root });
      expect(result.code).toBe(2);
      expect(result.stderr).toMatch(/notify: NOT SENT: the group was not told/);
      expect(result.stderr).toMatch(why);
      expect(result.stdout).toMatch(/notification: NOT SENT/);
    },
  );
});
