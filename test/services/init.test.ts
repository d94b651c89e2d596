import { readFileSync, statSync, writeFileSync, existsSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { runInit, type InitInput } from '../../src/services/init.js';
import { readAuditEntries } from '../../src/services/state/audit-trail.js';
import { parsePolicy } from '../../src/kinds/index.js';
import { isSecretsError } from '../../src/core/errors.js';
import { testDeps, scriptedPrompts } from '../helpers/deps.js';
import { fakeAlnum, fakeDingtalkSecret, fakeDingtalkUrl, fakeHex } from '../helpers/fake-secrets.js';
import { tempDir, writeTree } from '../helpers/temp-dir.js';

/** The id init gives the htpasswd secret; apart from its kind, which the repository's scan would read as a password. */
const HTPASSWD_ID = 'dashboard-password';
const NOW = new Date('2026-11-24T12:00:00Z');

/** An MT5-CRS-like deployment with values made at run time; returns the values to prove none leaks. */
function mt5Deployment(): { root: string; values: string[] } {
  const root = tempDir('secrets-init-');
  const values = [
    fakeDingtalkUrl(),
    fakeDingtalkSecret(),
    fakeHex(64),
    fakeAlnum(24),
    `postgresql://mt5:${fakeAlnum(20)}@db:5432/mt5`,
  ];
  writeTree(root, {
    '.env': [
      '# MT5-CRS',
      `DINGTALK_WEBHOOK_URL=${values[0]}`,
      `DINGTALK_SECRET=${values[1]}`,
      `JWT_SECRET_KEY=${values[2]}`,
      `POSTGRES_PASSWORD=${values[3]}`,
      `DATABASE_URL=${values[4]}`,
      'LOG_LEVEL=info',
      'DASHBOARD_PUBLIC_URL=https://dashboard.example.invalid/',
      '',
    ].join('\n'),
    '.htpasswd': {
      content: 'admin:$2y$08$' + fakeAlnum(53, 'abcdefghijklmnopqrstuvwxyz0123456789./') + '\n',
      mode: 0o640,
    },
  });
  return { root, values };
}

function input(root: string, extra: Partial<InitInput> = {}): InitInput {
  return { policyPath: join(root, 'secrets.yaml'), recipients: [], force: false, yes: false, now: NOW, ...extra };
}

function allOutput(deps: ReturnType<typeof testDeps>): string {
  return [...deps.captured.stdout, ...deps.captured.stderr].join('');
}

describe('runInit with flags (no terminal)', () => {
  it('writes a commented policy, mode 644, that parses and names every recognised secret', async () => {
    const { root, values } = mt5Deployment();
    const deps = testDeps({ cwd: root, now: NOW });
    const outcome = await runInit(
      input(root, { htpasswd: { file: '.htpasswd', user: 'admin' }, adoptedOn: new Date('2026-11-01') }),
      deps,
    );

    const path = join(root, 'secrets.yaml');
    expect(statSync(path).mode & 0o777).toBe(0o644);
    const text = readFileSync(path, 'utf8');
    expect(text).toMatch(/^# Policy for /);
    expect(text).toContain('# a DingTalk robot');
    const policy = parsePolicy(text, path);
    expect(Object.fromEntries(policy.secrets.map(({ id, spec }) => [id, spec.kind]))).toEqual({
      [HTPASSWD_ID]: 'htpasswd',
      dingtalk: 'dingtalk',
      'jwt-secret-key': 'random',
      'postgres-password': 'manual',
      'database-url': 'postgres',
    });
    expect(policy.doc.secrets['jwt-secret-key']).toMatchObject({ bytes: 32, encoding: 'hex', rotate_every: '90d' });
    expect(policy.doc.secrets['postgres-password']).toMatchObject({ env_key: 'POSTGRES_PASSWORD' });
    expect(policy.doc.compliance).toEqual({
      modes: { '.env': '600', '.htpasswd': '640' },
      gitignore: ['.env', '.env.*', '.htpasswd', '*.gpg', '.secrets/'],
      placeholders: expect.arrayContaining(['YOUR_ACTUAL_TOKEN', 'change-in-production']),
    });
    expect(policy.doc.backup).toMatchObject({ recipients: [], passphrase_env: 'SECRETS_BACKUP_PASSPHRASE' });
    expect(policy.doc.notify).toEqual({ dingtalk: 'dingtalk', dashboard_url_key: 'DASHBOARD_PUBLIC_URL' });
    expect(policy.root).toBe(root);
    expect(outcome.managed).toHaveLength(5);

    for (const value of values) {
      expect(text).not.toContain(value);
      expect(allOutput(deps)).not.toContain(value);
      expect(JSON.stringify(outcome)).not.toContain(value);
    }
  });

  it('round-trips: the written file read back as YAML gives the same document', async () => {
    const { root } = mt5Deployment();
    await runInit(input(root), testDeps({ cwd: root, now: NOW }));
    const path = join(root, 'secrets.yaml');
    const text = readFileSync(path, 'utf8');
    const first = parsePolicy(text, path).doc;
    const { stringify } = await import('yaml');
    expect(parsePolicy(stringify(parse(text)), path).doc).toEqual(first);
  });

  it('records --adopted-on for every secret, so check finds no deadline problem', async () => {
    const { root } = mt5Deployment();
    const deps = testDeps({ cwd: root, now: NOW });
    const outcome = await runInit(input(root, { adoptedOn: new Date('2026-10-01T00:00:00Z') }), deps);
    const { entries } = await readAuditEntries(outcome.policy.stateDir, deps);
    expect(entries.map((entry) => [entry.action, entry.secret, entry.details?.on])).toEqual(
      outcome.managed.map((id) => ['recorded', id, '2026-10-01T00:00:00.000Z']),
    );
    expect(outcome.check.findings.filter((finding) => finding.check === 'deadline')).toEqual([]);
    expect(outcome.check.secrets.every((secret) => secret.lastRotated === '2026-10-01T00:00:00.000Z')).toBe(true);
  });

  it('records nothing without --adopted-on, and check calls every secret never rotated (critical)', async () => {
    const { root } = mt5Deployment();
    const deps = testDeps({ cwd: root, now: NOW });
    const outcome = await runInit(input(root), deps);
    expect(outcome.adoptedOn).toBeUndefined();
    expect(existsSync(join(outcome.policy.stateDir, 'audit.jsonl'))).toBe(false);
    expect(outcome.check.status).toBe('critical');
    expect(outcome.check.findings.filter((finding) => finding.check === 'deadline')).toHaveLength(
      outcome.managed.length,
    );
  });

  it('refuses to overwrite an existing policy without --force (exit 3), and replaces it with --force', async () => {
    const { root } = mt5Deployment();
    writeFileSync(join(root, 'secrets.yaml'), 'hand-written\n');
    const error = await runInit(input(root), testDeps({ cwd: root, now: NOW })).catch((caught: unknown) => caught);
    expect(isSecretsError(error) && error.code === 'policy-exists' && error.exitCode === 3).toBe(true);
    expect(readFileSync(join(root, 'secrets.yaml'), 'utf8')).toBe('hand-written\n');

    await runInit(input(root, { force: true }), testDeps({ cwd: root, now: NOW }));
    expect(readFileSync(join(root, 'secrets.yaml'), 'utf8')).toContain('version: 1');
  });

  it('takes the only user of an htpasswd file when --htpasswd-user is not given', async () => {
    const { root } = mt5Deployment();
    const outcome = await runInit(
      input(root, { htpasswd: { file: join(root, '.htpasswd') } }),
      testDeps({ cwd: root, now: NOW }),
    );
    expect(outcome.policy.doc.secrets['dashboard-password']).toMatchObject({
      kind: 'htpasswd',
      file: '.htpasswd',
      user: 'admin',
    });
  });

  it('uses --interval, --recipient and --passphrase-env', async () => {
    const { root } = mt5Deployment();
    writeTree(root, { 'keys/ops.asc': 'public key' });
    const outcome = await runInit(
      input(root, { interval: '30d', recipients: ['keys/ops.asc'], passphraseEnv: 'BACKUP_PASS' }),
      testDeps({ cwd: root, now: NOW }),
    );
    expect(outcome.policy.secrets.every(({ spec }) => spec.rotate_every === '30d')).toBe(true);
    expect(outcome.policy.doc.backup).toMatchObject({ recipients: ['keys/ops.asc'], passphrase_env: 'BACKUP_PASS' });
  });

  it.each([
    ['a bad interval', { interval: 'ninety' }, 'bad-duration'],
    ['a future adoption date', { adoptedOn: new Date('2027-01-01') }, 'bad-date'],
    ['a missing --dotenv', { envFile: 'nope.env' }, 'env-missing'],
    ['--htpasswd with several users and no --htpasswd-user', { htpasswd: { file: 'two.htpasswd' } }, 'htpasswd-user'],
  ])('fails with exit 3 and writes nothing on %s', async (_name, extra, code) => {
    const { root } = mt5Deployment();
    writeTree(root, { 'two.htpasswd': 'a:x\nb:y\n' });
    const error = await runInit(input(root, extra as Partial<InitInput>), testDeps({ cwd: root, now: NOW })).catch(
      (caught: unknown) => caught,
    );
    expect(isSecretsError(error) ? [error.code, error.exitCode] : error).toEqual([code, 3]);
    expect(existsSync(join(root, 'secrets.yaml'))).toBe(false);
  });

  it('refuses to write a policy with nothing in it when there is no .env, and says why', async () => {
    const root = tempDir('secrets-init-');
    const deps = testDeps({ cwd: root, now: NOW });
    await expect(runInit(input(root), deps)).rejects.toMatchObject({ code: 'init-empty' });
    expect(deps.captured.stderr.join('')).toContain('no .env in');
    expect(existsSync(join(root, 'secrets.yaml'))).toBe(false);
  });

  it('never prompts when not interactive', async () => {
    const { root } = mt5Deployment();
    // scriptedPrompts() with no answers throws on any prompt.
    await expect(runInit(input(root), testDeps({ cwd: root, now: NOW, interactive: false }))).resolves.toBeDefined();
  });
});

describe('runInit on a terminal (scripted prompts)', () => {
  it('asks, defaults each question to its flag, and writes what was answered', async () => {
    const { root } = mt5Deployment();
    const prompts = scriptedPrompts([
      ['dingtalk', 'jwt-secret-key', 'postgres-password'], // untick database-url
      '60d', // interval
      true, // htpasswd?
      '.htpasswd',
      'admin',
      '', // no recipients
      'SECRETS_BACKUP_PASSPHRASE',
      '2026-11-20', // adopted on
      true, // write?
    ]);
    const deps = testDeps({ cwd: root, now: NOW, interactive: true, prompts });
    const outcome = await runInit(input(root), deps);
    expect(outcome.managed).toEqual(['dashboard-password', 'dingtalk', 'jwt-secret-key', 'postgres-password']);
    expect(outcome.policy.secrets.every(({ spec }) => spec.rotate_every === '60d')).toBe(true);
    expect(outcome.adoptedOn?.toISOString()).toBe('2026-11-20T00:00:00.000Z');
    expect(deps.captured.stdout.join('')).toContain('database-url');
  });

  it('asks again after a bad interval', async () => {
    const { root } = mt5Deployment();
    const prompts = scriptedPrompts([['dingtalk'], 'soon', '90d', false, '', 'BACKUP_PASS', '', true]);
    const deps = testDeps({ cwd: root, now: NOW, interactive: true, prompts });
    const outcome = await runInit(input(root), deps);
    expect(outcome.managed).toEqual(['dingtalk']);
    expect(outcome.adoptedOn).toBeUndefined();
    expect(outcome.policy.doc.backup.passphrase_env).toBe('BACKUP_PASS');
    expect(deps.captured.stderr.join('')).toContain('expected a duration');
  });

  it('asks again when neither a recipient nor a passphrase variable is given: no backup could be made', async () => {
    const { root } = mt5Deployment();
    const prompts = scriptedPrompts([['dingtalk'], '90d', false, '', '', 'BACKUP_PASS', '', true]);
    const deps = testDeps({ cwd: root, now: NOW, interactive: true, prompts });
    const outcome = await runInit(input(root), deps);
    expect(outcome.policy.doc.backup.passphrase_env).toBe('BACKUP_PASS');
    expect(deps.captured.stderr.join('')).toContain('no backup could ever be made');
  });

  it('writes nothing when the operator declines at the end (exit 3)', async () => {
    const { root } = mt5Deployment();
    const prompts = scriptedPrompts([[], '90d', false, '', 'BACKUP_PASS', '', false]);
    const error = await runInit(input(root), testDeps({ cwd: root, now: NOW, interactive: true, prompts })).catch(
      (caught: unknown) => caught,
    );
    expect(isSecretsError(error) && error.exitCode).toBe(3);
    expect(existsSync(join(root, 'secrets.yaml'))).toBe(false);
  });

  it('does not ask with --yes, even on a terminal', async () => {
    const { root } = mt5Deployment();
    const outcome = await runInit(input(root, { yes: true }), testDeps({ cwd: root, now: NOW, interactive: true }));
    expect(outcome.managed.length).toBeGreaterThan(0);
  });
});
