import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { parseDotenv, envValue } from '../../src/core/dotenv.js';
import { ROTATION_STEPS } from '../../src/core/rotation/journal.js';
import { runSecrets } from '../helpers/cli.js';
import { makeDeployment } from '../helpers/deployment.js';
import { fakeHex } from '../helpers/fake-secrets.js';
import { BACKUP_ENV, BACKUP_POLICY } from '../helpers/rotation.js';
import { startDingtalkServer } from '../helpers/dingtalk-server.js';

function deploymentWithRandomKey(hook = 'echo ran >> hooks.log') {
  const oldKey = fakeHex(64);
  const env = `# app\r\nexport JWT_SECRET_KEY=${oldKey} # rotated by secrets\r\nOTHER='kept'`;
  const deployment = makeDeployment({
    files: { '.env': env },
    policy: {
      backup: BACKUP_POLICY,
      secrets: { jwt: { kind: 'random', env_key: 'JWT_SECRET_KEY', rotate_every: '90d', after_change: [hook] } },
    },
  });
  return { deployment, env, oldKey };
}

const journalSteps = new Set(['journaled', 'swapping', 'swapped', 'hooks-done', 'recording', 'recorded']);

describe('rotate, killed at each step', () => {
  it.each(ROTATION_STEPS)('SIGKILL at %s: the next run recovers to all old or all new', async (step) => {
    const { deployment, env, oldKey } = deploymentWithRandomKey();
    const cwd = deployment.root;
    const killed = await runSecrets(['rotate', 'jwt', '--yes'], {
      cwd,
      env: { ...BACKUP_ENV, SECRETS_TEST_CRASH_AT: step },
    });
    expect(killed.code, killed.stderr).toBeNull();

    const check = await runSecrets(['check'], { cwd });
    if (journalSteps.has(step)) expect(check.stdout).toMatch(/jwt: a rotation was interrupted during \w+/);
    else expect(check.stdout).not.toMatch(/interrupted/);

    const recover = await runSecrets(['rotate', '--recover'], { cwd, env: BACKUP_ENV });
    expect(recover.code, recover.stderr).toBe(0);
    const after = readFileSync(deployment.path('.env'), 'utf8');
    if (step === 'recorded') {
      // The `rotated` entry was written: the new value is final, everything else untouched.
      const value = envValue(parseDotenv(after, '.env'), 'JWT_SECRET_KEY')!;
      expect(value).toMatch(/^[0-9a-f]{64}$/);
      expect(value).not.toBe(oldKey);
      expect(after).toBe(env.replace(oldKey, value));
      expect(recover.stdout).toMatch(/recovered: .*new values are in place/);
    } else {
      expect(after).toBe(env);
      if (journalSteps.has(step)) expect(recover.stdout).toMatch(/recovered: /);
    }
    // Hooks ran again after a roll-back of swapped files, so services read the old value.
    if (['swapping', 'swapped', 'hooks-done', 'recording'].includes(step)) {
      expect(readFileSync(deployment.path('hooks.log'), 'utf8').trim().split('\n').length).toBeGreaterThanOrEqual(
        step === 'swapping' || step === 'swapped' ? 1 : 2,
      );
    }
    // Nothing holding a value outlives the recovery.
    const journalDir = deployment.path('.secrets/rotation');
    expect(existsSync(journalDir) ? readdirSync(journalDir) : []).toEqual([]);
    expect(readdirSync(deployment.root).filter((name) => name.endsWith('.tmp'))).toEqual([]);
    const checkAfter = await runSecrets(['check'], { cwd });
    expect(checkAfter.stdout).not.toMatch(/interrupted/);

    // And a normal rotation works afterwards.
    const again = await runSecrets(['rotate', 'jwt', '--yes'], { cwd, env: BACKUP_ENV });
    expect(again.code, again.stderr).toBe(0);
    expect(existsSync(deployment.path('.secrets/rotation/journal.json'))).toBe(false);
  });
});

describe('two rotations at once', () => {
  it('never both write: the second fails at once naming the holder', async () => {
    const { deployment } = deploymentWithRandomKey('sleep 3');
    const cwd = deployment.root;
    const [first, second] = await Promise.all([
      runSecrets(['rotate', 'jwt', '--yes'], { cwd, env: BACKUP_ENV }),
      runSecrets(['rotate', 'jwt', '--yes'], { cwd, env: BACKUP_ENV }),
    ]);
    const codes = [first.code, second.code].sort();
    expect(codes).toEqual([0, 3]);
    const loser = first.code === 3 ? first : second;
    expect(loser.stderr).toMatch(/locked by .*pid \d+.*secrets rotate jwt/);
    const audit = readFileSync(deployment.path('.secrets/audit.jsonl'), 'utf8');
    expect(audit.match(/"action":"rotated"/g)).toHaveLength(1);
  });

  it('with --wait the second runs after the first; no update is lost', async () => {
    const { deployment } = deploymentWithRandomKey('sleep 3');
    const cwd = deployment.root;
    const results = await Promise.all([
      runSecrets(['rotate', 'jwt', '--yes', '--wait', '30'], { cwd, env: BACKUP_ENV }),
      runSecrets(['rotate', 'jwt', '--yes', '--wait', '30'], { cwd, env: BACKUP_ENV }),
    ]);
    expect(results.map((result) => result.code)).toEqual([0, 0]);
    const audit = readFileSync(deployment.path('.secrets/audit.jsonl'), 'utf8')
      .trim()
      .split('\n')
      .map((line) => JSON.parse(line) as { action: string; fingerprint?: string; previous?: string });
    const rotated = audit.filter((entry) => entry.action === 'rotated');
    expect(rotated).toHaveLength(2);
    // The second replaced the first's value, not the original one.
    expect(rotated[1]!.previous).toBe(rotated[0]!.fingerprint);
  });
});

describe('rotate dingtalk, killed mid-swap', () => {
  it.each(['swapping', 'recording', 'recorded'] as const)(
    'SIGKILL at %s leaves the URL and the secret of one robot',
    async (step) => {
      const server = await startDingtalkServer();
      const oldRobot = server.addRobot();
      const newRobot = server.addRobot();
      const env = `DINGTALK_WEBHOOK_URL='${oldRobot.url}'\nDINGTALK_SECRET=${oldRobot.secret}\n`;
      const deployment = makeDeployment({
        files: { '.env': env },
        policy: {
          backup: BACKUP_POLICY,
          secrets: { dingtalk: { kind: 'dingtalk', rotate_every: '90d', confirm: false } },
        },
      });
      const cwd = deployment.root;
      const input = `DINGTALK_WEBHOOK_URL=${newRobot.url}\nDINGTALK_SECRET=${newRobot.secret}\n`;
      const killed = await runSecrets(['rotate', 'dingtalk'], {
        cwd,
        input,
        env: { ...BACKUP_ENV, SECRETS_TEST_CRASH_AT: step },
      });
      expect(killed.code).toBeNull();
      const recover = await runSecrets(['rotate', '--recover'], { cwd, env: BACKUP_ENV });
      expect(recover.code, recover.stderr).toBe(0);
      const after = parseDotenv(readFileSync(deployment.path('.env'), 'utf8'), '.env');
      const pair = [envValue(after, 'DINGTALK_WEBHOOK_URL'), envValue(after, 'DINGTALK_SECRET')];
      expect(pair).toEqual(step === 'recorded' ? [newRobot.url, newRobot.secret] : [oldRobot.url, oldRobot.secret]);
    },
  );
});
