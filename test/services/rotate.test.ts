import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { fileLocker } from '../../src/adapters/lock.js';
import { shellRunner } from '../../src/adapters/process.js';
import { runRotate } from '../../src/services/rotate.js';
import { envValue, parseDotenv } from '../../src/core/dotenv.js';
import { isSecretsError } from '../../src/core/errors.js';
import { scriptedPrompts, testDeps } from '../helpers/deps.js';
import { fakeAlnum, fakeDingtalkSecret, fakeDingtalkUrl, fakeHex } from '../helpers/fake-secrets.js';
import { deploymentWithEnv, readEnv, recordingBackup } from '../helpers/rotation.js';

const NOW = new Date('2026-11-24T12:00:00Z');

async function randomDeployment(options: { hooks?: string[]; encoding?: string; env?: string } = {}) {
  const oldKey = fakeHex(64);
  const env = options.env ?? `# keys\nexport JWT_SECRET_KEY="${oldKey}"\n\nSECRET_KEY=${fakeHex(64)}\n`;
  const result = await deploymentWithEnv(env, {
    jwt: {
      kind: 'random',
      env_key: 'JWT_SECRET_KEY',
      rotate_every: '90d',
      ...(options.encoding ? { encoding: options.encoding } : {}),
      after_change: options.hooks ?? [],
    },
  });
  return { ...result, env, oldKey };
}

async function failure(promise: Promise<unknown>) {
  const error = await promise.then(
    () => undefined,
    (caught: unknown) => caught,
  );
  if (!isSecretsError(error)) throw new Error(`expected a SecretsError, got ${String(error)}`);
  return error;
}

describe('rotate random', () => {
  it.each(['hex', 'base64', 'base64url', 'alphanumeric'])(
    'writes a new %s value and touches nothing else',
    async (encoding) => {
      const { deployment, policy, env, oldKey } = await randomDeployment({ encoding });
      const deps = testDeps({ now: NOW });
      const outcome = await runRotate({ policy, ids: ['jwt'], backup: recordingBackup(), now: NOW }, deps);
      const after = readEnv(deployment);
      const value = envValue(parseDotenv(after, '.env'), 'JWT_SECRET_KEY')!;
      expect(value).not.toBe(oldKey);
      expect(after).toBe(
        env.replace(`"${oldKey}"`, encoding === 'base64' && /[$`"!]/.test(value) ? `'${value}'` : `"${value}"`),
      );
      const audit = readFileSync(join(policy.stateDir, 'audit.jsonl'), 'utf8');
      expect(audit).not.toContain(value);
      expect(audit).not.toContain(oldKey);
      expect(outcome.rotated[0]).toMatchObject({
        id: 'jwt',
        fingerprint: expect.stringMatching(/^hmac-sha256:/),
        previous: expect.stringMatching(/^hmac-sha256:/),
      });
      expect(deps.captured.stdout.join('')).not.toContain(value);
    },
  );

  it('--dry-run prints files, keys and hooks and changes nothing', async () => {
    const { deployment, policy, env } = await randomDeployment({ hooks: ['systemctl restart app'] });
    const backup = recordingBackup();
    const deps = testDeps({ now: NOW });
    await runRotate({ policy, ids: [], dryRun: true, backup, now: NOW }, deps);
    const printed = deps.captured.stdout.join('');
    expect(printed).toMatch(/jwt \(random, never rotated\)/);
    expect(printed).toMatch(/\.env: JWT_SECRET_KEY/);
    expect(printed).toMatch(/hooks:  systemctl restart app/);
    expect(readEnv(deployment)).toBe(env);
    expect(backup.calls).toEqual([]);
    expect(existsSync(policy.stateDir)).toBe(false);
  });

  it('without ids takes only what is due or within warn_before', async () => {
    const { policy } = await randomDeployment();
    const recent = new Date(NOW.getTime() - 10 * 86_400_000);
    const { appendAudit } = await import('../../src/services/state/audit-trail.js');
    await appendAudit(
      policy.stateDir,
      { action: 'recorded', secret: 'jwt', details: { on: recent.toISOString() } },
      testDeps({ now: NOW }),
    );
    const deps = testDeps({ now: NOW });
    const outcome = await runRotate({ policy, ids: [], backup: recordingBackup(), now: NOW }, deps);
    expect(outcome.rotated).toEqual([]);
    expect(deps.captured.stdout.join('')).toContain('nothing is due');
    const later = await runRotate(
      { policy, ids: [], backup: recordingBackup(), now: new Date(NOW.getTime() + 70 * 86_400_000) },
      testDeps({ now: NOW }),
    );
    expect(later.plan.map((item) => `${item.id}:${item.reason}`)).toEqual(['jwt:due soon']);
  });

  it('asks for confirmation on a terminal; a no changes nothing (exit 3)', async () => {
    const { deployment, policy, env } = await randomDeployment();
    const error = await failure(
      runRotate(
        { policy, ids: ['jwt'], backup: recordingBackup(), now: NOW },
        testDeps({ now: NOW, interactive: true, prompts: scriptedPrompts([false]) }),
      ),
    );
    expect(error.exitCode).toBe(3);
    expect(readEnv(deployment)).toBe(env);
  });

  it('a failing hook rolls the file back, reruns the hooks, exits 3', async () => {
    const hook =
      'echo run >> hooks.log; test -f failed-once || { touch failed-once; echo "reload failed" >&2; exit 1; }';
    const { deployment, policy, env } = await randomDeployment({ hooks: [hook] });
    const error = await failure(
      runRotate({ policy, ids: ['jwt'], backup: recordingBackup(), now: NOW }, testDeps({ now: NOW })),
    );
    expect(error.exitCode).toBe(3);
    expect(error.message).toMatch(/reload failed.*previous values are back/);
    expect(readEnv(deployment)).toBe(env);
    expect(readFileSync(deployment.path('hooks.log'), 'utf8')).toBe('run\nrun\n');
    const audit = readFileSync(join(policy.stateDir, 'audit.jsonl'), 'utf8');
    expect(audit).toMatch(/"step":"rollback","outcome":"ok"/);
    expect(audit).not.toMatch(/"action":"rotated"/);
    expect(existsSync(join(policy.stateDir, 'rotation', 'journal.json'))).toBe(false);
  });

  it('masks a value a failing hook prints', async () => {
    // The hook prints the JWT line of .env on its first run (new value) and on the rerun after the roll-back (old value).
    const { policy, oldKey } = await randomDeployment({
      hooks: ['grep JWT .env >&2; test -f once && exit 0; touch once; exit 1'],
    });
    const deps = testDeps({ now: NOW });
    const seenByHooks: string[] = [];
    const runner = {
      run: async (command: string, options: Parameters<typeof shellRunner.run>[1]) => {
        const result = await shellRunner.run(command, options);
        seenByHooks.push(result.stderr);
        return result;
      },
    };
    const error = await failure(
      runRotate({ policy, ids: ['jwt'], backup: recordingBackup(), now: NOW }, { ...deps, runner }),
    );
    const newKey = /JWT_SECRET_KEY="?([0-9a-f]{64})/.exec(seenByHooks[0]!)?.[1];
    expect(newKey).toBeDefined();
    const printed = [
      error.toLine(),
      ...deps.captured.stdout,
      ...deps.captured.stderr,
      readFileSync(join(policy.stateDir, 'audit.jsonl'), 'utf8'),
    ].join('\n');
    expect(printed).toMatch(/hook .* failed/);
    expect(printed).not.toContain(newKey!);
    expect(printed).not.toContain(oldKey);
  });

  it('a hook that times out rolls back too', async () => {
    const env = `K=${fakeHex(64)}\n`;
    const { deployment, policy } = await deploymentWithEnv(env, {
      k: {
        kind: 'random',
        env_key: 'K',
        rotate_every: '90d',
        hook_timeout: '1s',
        after_change: ['test -f slow-once && exit 0; touch slow-once; sleep 5'],
      },
    });
    const error = await failure(
      runRotate({ policy, ids: ['k'], backup: recordingBackup(), now: NOW }, testDeps({ now: NOW })),
    );
    expect(error.message).toMatch(/timed out after 1s/);
    expect(readEnv(deployment)).toBe(env);
  });

  it('exits 4 with exact instructions when the roll-back cannot be done safely', async () => {
    const { deployment, policy } = await randomDeployment({ hooks: ['echo EXTRA=1 >> .env; exit 1'] });
    const error = await failure(
      runRotate({ policy, ids: ['jwt'], backup: recordingBackup(), now: NOW }, testDeps({ now: NOW })),
    );
    expect(error.exitCode).toBe(4);
    expect(error.toLine()).toMatch(
      new RegExp(`cp ${policy.stateDir}/rotation/previous-0 ${deployment.path('.env')} && chmod 600`),
    );
    expect(error.toLine()).toMatch(/secrets rotate --recover/);
  });

  it('gives hooks no managed key and no managed value in their environment', async () => {
    const dingtalkSecret = fakeDingtalkSecret();
    const { deployment, policy } = await deploymentWithEnv(
      `JWT_SECRET_KEY=${fakeHex(64)}\nDINGTALK_WEBHOOK_URL='${fakeDingtalkUrl()}'\nDINGTALK_SECRET=${dingtalkSecret}\n`,
      {
        jwt: { kind: 'random', env_key: 'JWT_SECRET_KEY', rotate_every: '90d', after_change: ['env > hook-env.txt'] },
        dingtalk: { kind: 'dingtalk', rotate_every: '90d' },
      },
    );
    const sneaky = fakeAlnum(24);
    const env = {
      PATH: process.env.PATH,
      JWT_SECRET_KEY: 'x',
      DINGTALK_SECRET: dingtalkSecret,
      COPY_OF_SECRET: dingtalkSecret,
      HARMLESS: sneaky,
    };
    await runRotate({ policy, ids: ['jwt'], backup: recordingBackup(), now: NOW }, testDeps({ now: NOW, env }));
    const seen = readFileSync(deployment.path('hook-env.txt'), 'utf8');
    expect(seen).toContain(`HARMLESS=${sneaky}`);
    expect(seen).not.toMatch(/JWT_SECRET_KEY|DINGTALK_SECRET|COPY_OF_SECRET/);
    const newValue = envValue(parseDotenv(readEnv(deployment), '.env'), 'JWT_SECRET_KEY')!;
    expect(seen).not.toContain(newValue);
  });

  it('a second rotation fails at once while the lock is held, naming the holder', async () => {
    const { deployment, policy, env } = await randomDeployment();
    const { ensureStateDir } = await import('../../src/services/state/audit-trail.js');
    await ensureStateDir(policy.stateDir, testDeps());
    const lock = await fileLocker.acquire(policy.stateDir, { command: 'secrets rotate dingtalk' });
    try {
      const error = await failure(
        runRotate({ policy, ids: ['jwt'], backup: recordingBackup(), now: NOW }, testDeps({ now: NOW })),
      );
      expect(error.exitCode).toBe(3);
      expect(error.message).toMatch(/locked by .*"secrets rotate dingtalk"/);
      expect(readEnv(deployment)).toBe(env);
    } finally {
      await lock.release();
    }
  });

  it('a failed backup stops the rotation before any write', async () => {
    const { deployment, policy, env } = await randomDeployment();
    const { SecretsError } = await import('../../src/core/errors.js');
    const backup = async () => {
      throw new SecretsError('backup-no-material', 'no recipients configured');
    };
    const error = await failure(runRotate({ policy, ids: ['jwt'], backup, now: NOW }, testDeps({ now: NOW })));
    expect(error.message).toMatch(/no recipients/);
    expect(readEnv(deployment)).toBe(env);
  });
});

describe('rotate manual', () => {
  const steps = ['Log in to the provider console', 'Create a new API key, revoke the old one'];

  it('prints the steps and records on --yes (no env key: no file change)', async () => {
    const env = 'A=1\n';
    const { deployment, policy } = await deploymentWithEnv(env, {
      provider: { kind: 'manual', rotate_every: '180d', steps },
    });
    const deps = testDeps({ now: NOW });
    await runRotate({ policy, ids: ['provider'], yes: true, backup: recordingBackup(), now: NOW }, deps);
    expect(deps.captured.stdout.join('')).toContain('2. Create a new API key');
    expect(readFileSync(join(policy.stateDir, 'audit.jsonl'), 'utf8')).toMatch(
      /"action":"rotated","secret":"provider"/,
    );
    expect(readEnv(deployment)).toBe(env);
  });

  it('refuses without --yes when no terminal can confirm', async () => {
    const { policy } = await deploymentWithEnv('A=1\n', { provider: { kind: 'manual', rotate_every: '180d', steps } });
    const error = await failure(
      runRotate({ policy, ids: ['provider'], backup: recordingBackup(), now: NOW }, testDeps({ now: NOW })),
    );
    expect(error.message).toMatch(/--yes/);
  });

  it('reads the new value from stdin and swaps it when the policy names an env key', async () => {
    const oldValue = fakeAlnum(40);
    const newValue = fakeAlnum(40);
    const { deployment, policy } = await deploymentWithEnv(`ANTHROPIC_API_KEY=${oldValue}\n`, {
      anthropic: { kind: 'manual', env_key: 'ANTHROPIC_API_KEY', min_length: 20, rotate_every: '180d', steps },
    });
    await runRotate(
      { policy, ids: ['anthropic'], yes: true, backup: recordingBackup(), now: NOW },
      testDeps({ now: NOW, stdin: `ANTHROPIC_API_KEY=${newValue}\n` }),
    );
    expect(readEnv(deployment)).toBe(`ANTHROPIC_API_KEY=${newValue}\n`);
  });
});

describe('rotate, several secrets', () => {
  it('goes on after a refusal, reports it (exit 3), and never records a manual secret unattended', async () => {
    const oldKey = fakeHex(64);
    const env = `JWT_SECRET_KEY=${oldKey}\nDINGTALK_WEBHOOK_URL='${fakeDingtalkUrl()}'\nDINGTALK_SECRET=${fakeDingtalkSecret()}\n`;
    const { deployment, policy } = await deploymentWithEnv(env, {
      dingtalk: { kind: 'dingtalk', rotate_every: '90d' },
      jwt: { kind: 'random', env_key: 'JWT_SECRET_KEY', rotate_every: '90d' },
      provider: { kind: 'manual', rotate_every: '90d', steps: ['by hand'] },
    });
    const deps = testDeps({ now: NOW });
    const error = await failure(runRotate({ policy, ids: [], yes: true, backup: recordingBackup(), now: NOW }, deps));
    expect(error.exitCode).toBe(3);
    expect(error.message).toBe('1 of 2 secrets not rotated: dingtalk (rotated: jwt)');
    expect(deps.captured.stderr.join('')).toMatch(/rotated by hand, so not in an unattended run: provider/);
    const after = parseDotenv(readEnv(deployment), '.env');
    expect(envValue(after, 'JWT_SECRET_KEY')).not.toBe(oldKey);
    expect(readEnv(deployment).split('\n').slice(1)).toEqual(env.split('\n').slice(1));
    expect(readFileSync(join(policy.stateDir, 'audit.jsonl'), 'utf8')).not.toMatch(
      /"action":"rotated","secret":"provider"/,
    );
  });
});
