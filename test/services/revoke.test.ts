import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { createScanSources } from '../../src/adapters/scan-sources.js';
import { runCheck } from '../../src/services/check.js';
import { runRevoke, type RevokeInput } from '../../src/services/revoke.js';
import { runRotate } from '../../src/services/rotate.js';
import { envValue, parseDotenv } from '../../src/core/dotenv.js';
import type { Policy } from '../../src/core/policy.js';
import { testDeps } from '../helpers/deps.js';
import { startDingtalkServer } from '../helpers/dingtalk-server.js';
import { fakeHex } from '../helpers/fake-secrets.js';
import { commitFiles, git, initRepo } from '../helpers/git-repo.js';
import { deploymentWithEnv, readEnv, recordingBackup } from '../helpers/rotation.js';

const NOW = new Date('2026-11-24T12:00:00Z');

function revokeInput(policy: Policy, id: string, extra: Partial<RevokeInput> = {}): RevokeInput {
  return {
    policy,
    id,
    reason: 'pasted in a chat',
    incident: 'INC-7',
    yes: true,
    backup: recordingBackup(),
    now: NOW,
    ...extra,
  };
}

function auditActions(
  policy: Policy,
): Array<{ action: string; secret?: string; details?: Record<string, unknown>; fingerprint?: string }> {
  return readFileSync(join(policy.stateDir, 'audit.jsonl'), 'utf8')
    .trim()
    .split('\n')
    .map((line) => JSON.parse(line) as { action: string });
}

async function revokedFindings(policy: Policy) {
  const outcome = await runCheck({ policy, now: NOW }, testDeps({ now: NOW }));
  return outcome.findings.filter((finding) => finding.check === 'revoked');
}

function printed(deps: ReturnType<typeof testDeps>): string {
  return deps.captured.stdout.join('') + deps.captured.stderr.join('');
}

describe('revoke random', () => {
  it('replaces the value at once, runs the hooks, records revoked then rotated, and check stays clean', async () => {
    const old = fakeHex(64);
    const { deployment, policy } = await deploymentWithEnv(`JWT_SECRET_KEY=${old}\nOTHER=1\n`, {
      jwt: {
        kind: 'random',
        env_key: 'JWT_SECRET_KEY',
        rotate_every: '90d',
        after_change: ['echo restarted >> restarts.log'],
      },
    });
    const deps = testDeps({ now: NOW });
    const outcome = await runRevoke(revokeInput(policy, 'jwt', { scan: false }), deps);

    expect(outcome.replaced).toBe(true);
    expect(outcome.exitCode).toBe(0);
    const next = envValue(parseDotenv(readEnv(deployment), '.env'), 'JWT_SECRET_KEY')!;
    expect(next).toMatch(/^[0-9a-f]{64}$/);
    expect(next).not.toBe(old);
    expect(readFileSync(deployment.path('restarts.log'), 'utf8')).toBe('restarted\n');
    const actions = auditActions(policy).filter((entry) => entry.action === 'revoked' || entry.action === 'rotated');
    expect(actions.map((entry) => entry.action)).toEqual(['revoked', 'rotated']);
    expect(actions[0]!.details).toMatchObject({ reason: 'pasted in a chat', incident: 'INC-7', kind: 'random' });
    expect(actions[0]!.fingerprint).toMatch(/^hmac-sha256:/);
    expect(await revokedFindings(policy)).toEqual([]);
    const text = printed(deps) + readFileSync(join(policy.stateDir, 'audit.jsonl'), 'utf8');
    expect(text).not.toContain(old);
    expect(text).not.toContain(next);
  });
});

describe('revoke manual', () => {
  it('records the revocation, prints the steps, exits 2, and check is critical until the rotation', async () => {
    const { policy } = await deploymentWithEnv('OPENAI_API_KEY=sk-placeholder-value\n', {
      openai: {
        kind: 'manual',
        rotate_every: '90d',
        steps: ['revoke the key in the OpenAI console', 'create a new key'],
      },
    });
    const deps = testDeps({ now: NOW });
    const outcome = await runRevoke(revokeInput(policy, 'openai', { scan: false }), deps);
    expect(outcome.replaced).toBe(false);
    expect(outcome.exitCode).toBe(2);
    expect(printed(deps)).toContain('1. revoke the key in the OpenAI console');
    expect(printed(deps)).toContain('2. create a new key');

    const findings = await revokedFindings(policy);
    expect(findings).toEqual([expect.objectContaining({ check: 'revoked', severity: 'critical', secret: 'openai' })]);
    expect(findings[0]!.message).toContain('INC-7');

    await runRotate(
      { policy, ids: ['openai'], yes: true, backup: recordingBackup(), now: NOW },
      testDeps({ now: NOW }),
    );
    expect(await revokedFindings(policy)).toEqual([]);
  });

  it('refuses --lock-only for a kind without a separate lock-out, with nothing changed', async () => {
    const { policy } = await deploymentWithEnv('JWT_SECRET_KEY=x\n', {
      jwt: { kind: 'random', env_key: 'JWT_SECRET_KEY', rotate_every: '90d' },
    });
    await expect(runRevoke(revokeInput(policy, 'jwt', { lockOnly: true }), testDeps())).rejects.toMatchObject({
      code: 'bad-option',
      exitCode: 3,
    });
    expect(existsSync(join(policy.stateDir, 'audit.jsonl'))).toBe(false);
  });
});

async function dingtalkSetup() {
  const server = await startDingtalkServer();
  const leaked = server.addRobot();
  const replacement = server.addRobot();
  const team = server.addRobot();
  const env = [
    `DINGTALK_WEBHOOK_URL=${leaked.url}`,
    `DINGTALK_SECRET=${leaked.secret}`,
    `ALERTS_WEBHOOK_URL=${team.url}`,
    `ALERTS_SECRET=${team.secret}`,
    '',
  ].join('\n');
  const { deployment, policy } = await deploymentWithEnv(
    env,
    {
      risk: { kind: 'dingtalk', rotate_every: '90d' },
      alerts: { kind: 'dingtalk', rotate_every: '90d', url_key: 'ALERTS_WEBHOOK_URL', secret_key: 'ALERTS_SECRET' },
    },
    { policy: { notify: { dingtalk: 'alerts' } } },
  );
  return { server, leaked, replacement, team, deployment, policy };
}

/** DingTalk (and the local server) refuse signatures more than an hour off: the real clock. */
const SIGNED_NOW = new Date();

describe('revoke dingtalk', () => {
  it('without a new pair: blanks the pair, says alerts pause, prints the reset steps, exits 2; check critical until rotated', async () => {
    const { server, leaked, replacement, team, deployment, policy } = await dingtalkSetup();
    const deps = testDeps({ now: SIGNED_NOW });
    const outcome = await runRevoke(revokeInput(policy, 'risk', { scan: false, now: SIGNED_NOW }), deps);

    expect(outcome.exitCode).toBe(2);
    const env = parseDotenv(readEnv(deployment), '.env');
    expect(envValue(env, 'DINGTALK_WEBHOOK_URL')).toBe('');
    expect(envValue(env, 'DINGTALK_SECRET')).toBe('');
    expect(envValue(env, 'ALERTS_WEBHOOK_URL')).toBe(team.url);
    expect(printed(deps)).toMatch(/alerts pause/);
    expect(printed(deps)).toMatch(/Group Settings → Bots/);
    expect(server.received.filter((message) => message.accessToken === leaked.accessToken)).toEqual([]);
    expect(await revokedFindings(policy)).toHaveLength(1);

    const stdin = `DINGTALK_WEBHOOK_URL=${replacement.url}\nDINGTALK_SECRET=${replacement.secret}\n`;
    await runRotate(
      { policy, ids: ['risk'], yes: true, backup: recordingBackup(), now: SIGNED_NOW },
      testDeps({ now: SIGNED_NOW, stdin }),
    );
    expect(await revokedFindings(policy)).toEqual([]);
  });

  it('with the new pair on stdin: one run, test send first, replaced (exit 0), and the team alert carries no value', async () => {
    const { server, leaked, replacement, team, deployment, policy } = await dingtalkSetup();
    const stdin = `DINGTALK_WEBHOOK_URL=${replacement.url}\nDINGTALK_SECRET=${replacement.secret}\n`;
    const deps = testDeps({ now: SIGNED_NOW, stdin });
    const outcome = await runRevoke(revokeInput(policy, 'risk', { scan: false, now: SIGNED_NOW }), deps);

    expect(outcome.exitCode).toBe(0);
    expect(outcome.replaced).toBe(true);
    expect(envValue(parseDotenv(readEnv(deployment), '.env'), 'DINGTALK_SECRET')).toBe(replacement.secret);
    // The test send, the confirmation (new robot), then the alert through the team robot.
    expect(server.accepted().map((message) => message.accessToken)).toEqual([
      replacement.accessToken,
      replacement.accessToken,
      team.accessToken,
    ]);
    const alert = server.accepted()[2]!.text;
    for (const expected of ['risk', 'pasted in a chat', 'INC-7', 'tester', SIGNED_NOW.toISOString()])
      expect(alert).toContain(expected);
    for (const value of [leaked.accessToken, leaked.secret!, replacement.accessToken, replacement.secret!]) {
      expect(alert).not.toContain(value);
      expect(printed(deps)).not.toContain(value);
    }
    expect(await revokedFindings(policy)).toEqual([]);
  });

  // The hook fails on the blanked file only, so the roll-back's rerun of it passes.
  it('a failing hook rolls the cut-off back: exit 3, .env as it was, no revoked entry', async () => {
    const { deployment, policy } = await dingtalkSetup();
    const before = readEnv(deployment);
    const failing = {
      ...policy,
      secrets: policy.secrets.map((secret) =>
        secret.id === 'risk'
          ? {
              ...secret,
              spec: { ...secret.spec, after_change: ['if grep -q "^DINGTALK_SECRET=\'\'" .env; then exit 7; fi'] },
            }
          : secret,
      ),
    };
    const error = await runRevoke(
      revokeInput(failing, 'risk', { scan: false, now: SIGNED_NOW }),
      testDeps({ now: SIGNED_NOW }),
    ).catch((caught: unknown) => caught);
    expect(error).toMatchObject({ code: 'rotation-rolled-back', exitCode: 3 });
    expect(readEnv(deployment)).toBe(before);
    expect(auditActions(policy).map((entry) => entry.action)).not.toContain('revoked');
  });

  it('does not alert through the robot that leaked', async () => {
    const { server, policy } = await dingtalkSetup();
    const deps = testDeps({ now: SIGNED_NOW });
    const outcome = await runRevoke(revokeInput(policy, 'alerts', { scan: false }), deps);
    expect(outcome.alert).toMatch(/not sent: the notify robot is the secret that leaked/);
    expect(server.received).toEqual([]);
  });
});

describe('revoke: where did it leak', () => {
  it('finds the value in three commits on two branches and the working tree, and writes the filter-repo file (600)', async () => {
    const old = fakeHex(64);
    const { deployment, policy } = await deploymentWithEnv(`SECRET_KEY=${old}\n`, {
      app: { kind: 'random', env_key: 'SECRET_KEY', rotate_every: '90d' },
    });
    const root = deployment.root;
    initRepo(root);
    const first = commitFiles(
      root,
      { '.gitignore': '.env\n.secrets/\nbackups/\n', 'settings.py': `SECRET_KEY = "${old}"\n` },
      'settings',
    );
    const second = commitFiles(root, { 'notes/deploy.md': `# deploy\n\nexport SECRET_KEY=${old}\n` }, 'deploy notes');
    git(root, ['checkout', '-q', '-b', 'feature']);
    const third = commitFiles(root, { 'scripts/run.sh': `#!/bin/sh\n\nSECRET_KEY=${old} ./app\n` }, 'run script');
    git(root, ['checkout', '-q', 'main']);

    const deps = testDeps({ now: NOW, scanSources: async () => createScanSources() });
    const outcome = await runRevoke(revokeInput(policy, 'app'), deps);

    expect(outcome.replaced).toBe(true);
    expect(outcome.exitCode).toBe(1);
    expect(outcome.leaks!.history.map((found) => [found.commit, found.file, found.line]).sort()).toEqual(
      [
        [first, 'settings.py', 1],
        [second, 'notes/deploy.md', 3],
        [third, 'scripts/run.sh', 3],
      ].sort(),
    );
    expect(outcome.leaks!.tree.map((found) => [found.file, found.line]).sort()).toEqual([
      ['notes/deploy.md', 3],
      ['settings.py', 1],
    ]);

    const file = outcome.replacementsFile!;
    expect(file.startsWith(`${policy.stateDir}/`)).toBe(true);
    expect(statSync(file).mode & 0o777).toBe(0o600);
    expect(statSync(policy.stateDir).mode & 0o777).toBe(0o700);
    expect(readFileSync(file, 'utf8')).toBe(`${old}==>***REMOVED***\n`);

    const text = printed(deps);
    expect(text).toContain(`commit ${third.slice(0, 12)}  scripts/run.sh:3`);
    expect(text).toContain(`git filter-repo --replace-text ${file}`);
    expect(text).toMatch(/every clone.*re-made/);
    expect(text).toMatch(/a purge does not un-leak.*rotation is the fix/i);
    expect(text).not.toContain(old);
    // The search ran on the value from before the cut-off: the new value is nowhere in git.
    expect(execFileSync('git', ['log', '--all', '-p'], { cwd: root, encoding: 'utf8' })).toContain(old);
  });
});
