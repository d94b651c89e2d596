import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { runSecrets, type CliResult } from '../helpers/cli.js';
import { makeDeployment } from '../helpers/deployment.js';
import { fakeAlnum, fakeHex } from '../helpers/fake-secrets.js';
import { BACKUP_ENV, BACKUP_POLICY } from '../helpers/rotation.js';

/** A policy with an unknown top-level field on line 4. */
const BAD_POLICY = 'version: 1\ndeployment: demo\nsecrets: {}\nnotfy: {}\n';

/** An after_change hook that fails the first time (the swap) and succeeds the second (the rollback). */
const FAILS_ONCE = 'if [ -e hook-ran ]; then exit 0; fi; touch hook-ran; exit 7';

interface ErrorDocument {
  error: { code: string; message: string; where: string | null; hint: string | null; exitCode: number };
  [key: string]: unknown;
}

/** stdout must be exactly one JSON document (two documents, or text around one, do not parse). */
function oneDocument(result: CliResult): Record<string, unknown> {
  expect(result.stdout.trim(), `stdout empty; stderr: ${result.stderr}`).not.toBe('');
  return JSON.parse(result.stdout) as Record<string, unknown>;
}

function failure(result: CliResult, code: string, exitCode = 3): ErrorDocument {
  expect(result.code, result.stderr).toBe(exitCode);
  const document = oneDocument(result) as ErrorDocument;
  expect(document.error).toMatchObject({ code, exitCode });
  expect(document.error.message).not.toBe('');
  // The human line on stderr carries the same code.
  expect(result.stderr).toContain(`[${code}]`);
  return document;
}

function randomSecrets(ids: string[], extra: Record<string, unknown> = {}) {
  return Object.fromEntries(
    ids.map((id) => [id, { kind: 'random', env_key: `${id.toUpperCase()}_KEY`, rotate_every: '90d', ...extra }]),
  );
}

describe('every error is printed with its code', () => {
  it('a policy error: secrets: [policy-invalid] file:line:col: … (and "did you mean" a real field)', async () => {
    const deployment = makeDeployment({ policy: BAD_POLICY });
    const result = await runSecrets(['check'], { cwd: deployment.root });
    expect(result.code).toBe(3);
    expect(result.stdout).toBe('');
    expect(result.stderr).toBe(
      'secrets: [policy-invalid] secrets.yaml:4:1: (top level): unknown field "notfy" (did you mean "notify"?)\n',
    );
  });

  it('an unexpected error says [unexpected]', async () => {
    const deployment = makeDeployment({ files: { '.env': '' } });
    mkdirSync(deployment.path('.secrets/audit.jsonl'), { recursive: true });
    const result = await runSecrets(['log'], { cwd: deployment.root });
    expect(result.code).toBe(3);
    expect(result.stderr).toMatch(/^secrets: \[unexpected\] /);
  });
});

describe('--json: one JSON document on stdout on failure, with code, message, where and exit code', () => {
  const commands: string[][] = [
    ['check'],
    ['rotate', '--yes'],
    ['rotate', '--dry-run'],
    ['backup'],
    ['backup', '--list'],
    ['scan'],
    ['record', 'x'],
    ['log'],
    ['revoke', 'x', '--yes'],
    ['notify', '--test'],
  ];
  it.each(commands.map((args) => [args.join(' '), args]))('a policy error: %s', async (_name, args) => {
    const deployment = makeDeployment({ policy: BAD_POLICY });
    const result = await runSecrets(['--json', ...(args as string[])], { cwd: deployment.root });
    const { error } = failure(result, 'policy-invalid');
    expect(error.where).toMatch(/(^|\/)secrets\.yaml:4:1$/);
    expect(error.message).toBe('(top level): unknown field "notfy" (did you mean "notify"?)');
  });

  it('check: a bad --as-of date', async () => {
    const deployment = makeDeployment({ files: { '.env': '' } });
    const result = await runSecrets(['check', '--json', '--as-of', 'someday'], { cwd: deployment.root });
    expect(failure(result, 'bad-date').error.where).toBeNull();
  });

  it('check --notify: the check document also says the notification failed, and why', async () => {
    const deployment = makeDeployment({
      files: { '.env': 'APP_KEY=x\n' },
      policy: { secrets: randomSecrets(['app']) },
    });
    const result = await runSecrets(['check', '--json', '--notify'], { cwd: deployment.root });
    // The check's own code (critical): the failed notification is said, not turned into exit 3.
    expect(result.code).toBe(2);
    const document = oneDocument(result);
    expect(document.status).toBe('critical');
    expect(document.notify).toMatchObject({ sent: false, error: { code: 'notify-unset', exitCode: 3 } });
  });

  it('rotate --yes failing with exit 4 (an unreadable rotation journal)', async () => {
    const env = `APP_KEY=${fakeHex(64)}\n`;
    const deployment = makeDeployment({
      files: { '.env': { content: env, mode: 0o600 } },
      policy: { backup: BACKUP_POLICY, secrets: randomSecrets(['app']) },
    });
    mkdirSync(deployment.path('.secrets/rotation'), { recursive: true, mode: 0o700 });
    writeFileSync(deployment.path('.secrets/rotation/journal.json'), '{ not json');
    const result = await runSecrets(['--json', 'rotate', '--yes'], { cwd: deployment.root, env: BACKUP_ENV });
    const document = failure(result, 'journal-corrupt', 4);
    expect(document.error.exitCode).toBe(4);
    expect(readFileSync(deployment.path('.env'), 'utf8')).toBe(env);
  });

  it('rotate --yes failing with exit 4 part-way (a hook that also fails on the way back) reports what it rotated', async () => {
    const deployment = makeDeployment({
      files: { '.env': { content: `GOOD_KEY=${fakeHex(64)}\nBAD_KEY=${fakeHex(64)}\n`, mode: 0o600 } },
      policy: {
        backup: BACKUP_POLICY,
        secrets: { ...randomSecrets(['good']), ...randomSecrets(['bad'], { after_change: ['exit 7'] }) },
      },
    });
    const result = await runSecrets(['--json', 'rotate', '--yes'], { cwd: deployment.root, env: BACKUP_ENV });
    const document = failure(result, 'rollback-hook-failed', 4);
    expect((document.rotated as Array<{ id: string }>).map((item) => item.id)).toEqual(['good']);
    expect(document.error.hint).toMatch(/run it again by hand/);
  });

  it('rotate: one secret rolled back among two reports the rotated one, the failed one and the error', async () => {
    const deployment = makeDeployment({
      files: { '.env': { content: `GOOD_KEY=${fakeHex(64)}\nBAD_KEY=${fakeHex(64)}\n`, mode: 0o600 } },
      policy: {
        backup: BACKUP_POLICY,
        secrets: { ...randomSecrets(['good']), ...randomSecrets(['bad'], { after_change: [FAILS_ONCE] }) },
      },
    });
    const result = await runSecrets(['rotate', 'good', 'bad', '--yes', '--json'], {
      cwd: deployment.root,
      env: BACKUP_ENV,
    });
    const document = failure(result, 'rotate-failed');
    expect((document.rotated as Array<{ id: string }>).map((item) => item.id)).toEqual(['good']);
    expect(document.failed).toEqual([expect.objectContaining({ id: 'bad', code: 'rotation-rolled-back' })]);
    expect(document.error.message).toMatch(/1 of 2 secrets not rotated: bad/);
  });

  it('rotate: one named secret refused keeps its own code', async () => {
    const deployment = makeDeployment({
      files: { '.env': { content: `APP_KEY=${fakeHex(64)}\n`, mode: 0o600 } },
      policy: { backup: BACKUP_POLICY, secrets: randomSecrets(['app'], { after_change: [FAILS_ONCE] }) },
    });
    const result = await runSecrets(['--json', 'rotate', 'app', '--yes'], { cwd: deployment.root, env: BACKUP_ENV });
    const document = failure(result, 'rotation-rolled-back');
    expect(document.failed).toEqual([expect.objectContaining({ id: 'app', code: 'rotation-rolled-back' })]);
    expect(document.rotated).toEqual([]);
  });

  it('backup: no passphrase and no terminal', async () => {
    const deployment = makeDeployment({
      files: { '.env': { content: 'A=b\n', mode: 0o600 } },
      policy: { backup: BACKUP_POLICY },
    });
    const result = await runSecrets(['--json', 'backup'], {
      cwd: deployment.root,
      env: { SECRETS_BACKUP_PASSPHRASE: undefined },
    });
    failure(result, 'backup-no-material');
  });

  it('scan: a baseline that is not JSON', async () => {
    const deployment = makeDeployment({ files: { '.env': '', 'baseline.json': 'nope' } });
    const result = await runSecrets(['--json', 'scan', '--baseline', 'baseline.json'], { cwd: deployment.root });
    const { error } = failure(result, 'baseline-invalid');
    expect(error.where).toMatch(/baseline\.json/);
  });

  it('record: an unknown secret id', async () => {
    const deployment = makeDeployment({ files: { '.env': '' }, policy: { secrets: randomSecrets(['app']) } });
    const result = await runSecrets(['record', 'ap', '--json'], { cwd: deployment.root });
    expect(failure(result, 'unknown-secret').error.message).toMatch(/no secret "ap"/);
  });

  it('log: an unknown --secret, and an audit trail that cannot be read', async () => {
    const deployment = makeDeployment({ files: { '.env': '' }, policy: { secrets: randomSecrets(['app']) } });
    failure(await runSecrets(['log', '--json', '--secret', 'ap'], { cwd: deployment.root }), 'unknown-secret');
    mkdirSync(deployment.path('.secrets/audit.jsonl'), { recursive: true });
    failure(await runSecrets(['log', '--json'], { cwd: deployment.root }), 'unexpected');
  });

  it('a usage error (unknown option)', async () => {
    const deployment = makeDeployment({ files: { '.env': '' } });
    const result = await runSecrets(['check', '--json', '--bogus'], { cwd: deployment.root });
    expect(failure(result, 'usage').error.message).toMatch(/--bogus/);
  });
});

describe('--json: one JSON document on success', () => {
  it.each([[['check']], [['record', 'app', '--on', '2026-01-02']], [['log']], [['backup', '--list']], [['scan']]])(
    '%s',
    async (args) => {
      const deployment = makeDeployment({
        files: { '.env': { content: `APP_KEY=${fakeHex(64)}\n`, mode: 0o600 } },
        policy: { secrets: randomSecrets(['app']) },
      });
      const result = await runSecrets(['--json', ...args], { cwd: deployment.root });
      expect([0, 1, 2], result.stderr).toContain(result.code);
      expect(oneDocument(result)).not.toHaveProperty('error');
    },
  );
});

describe('rotate --dry-run: what it would do and why, for each secret', () => {
  function overdueDeployment() {
    return makeDeployment({
      files: { '.env': { content: `API_KEY=${fakeAlnum(32)}\nAPP_KEY=${fakeHex(64)}\n`, mode: 0o600 } },
      policy: {
        secrets: {
          api: { kind: 'manual', env_key: 'API_KEY', rotate_every: '90d' },
          app: { kind: 'random', env_key: 'APP_KEY', rotate_every: '900d' },
        },
      },
    });
  }
  const AS_OF = ['--as-of', '2026-08-23'];

  it('--json lists an overdue manual secret left to a person (with its dates) and what is not due', async () => {
    const deployment = overdueDeployment();
    for (const id of ['api', 'app'])
      expect((await runSecrets(['record', id, '--on', '2025-01-01'], { cwd: deployment.root })).code).toBe(0);
    const result = await runSecrets(['--json', ...AS_OF, 'rotate', '--dry-run'], { cwd: deployment.root });
    expect(result.code, result.stderr).toBe(0);
    const document = oneDocument(result);
    expect(document.plan).toEqual([]);
    expect(document.byHand).toEqual([
      {
        id: 'api',
        kind: 'manual',
        reason: 'overdue',
        why: 'overdue since 2025-04-01 (509 days ago, every 90d, last 2025-01-01)',
      },
    ]);
    expect(document.notDue).toEqual([
      { id: 'app', kind: 'random', why: 'due 2027-06-20 (in 301 days, every 900d, last 2025-01-01)' },
    ]);
  });

  it('the text never says "nothing is due" while a secret is overdue', async () => {
    const deployment = overdueDeployment();
    await runSecrets(['record', 'api', '--on', '2025-01-01'], { cwd: deployment.root });
    await runSecrets(['record', 'app', '--on', '2026-08-01'], { cwd: deployment.root });
    const result = await runSecrets([...AS_OF, 'rotate', '--dry-run'], { cwd: deployment.root });
    expect(result.code, result.stderr).toBe(0);
    expect(result.stdout).not.toMatch(/nothing is due/);
    expect(result.stdout).toMatch(/api \(manual\): overdue since 2025-04-01 \(509 days ago/);
  });

  it('--json gives each planned secret its reason in words', async () => {
    const deployment = makeDeployment({
      files: { '.env': { content: `APP_KEY=${fakeHex(64)}\n`, mode: 0o600 } },
      policy: { secrets: randomSecrets(['app']) },
    });
    await runSecrets(['record', 'app', '--on', '2026-01-01'], { cwd: deployment.root });
    const result = await runSecrets(['--json', ...AS_OF, 'rotate', '--dry-run'], { cwd: deployment.root });
    const document = oneDocument(result);
    expect(document.plan).toEqual([
      expect.objectContaining({
        id: 'app',
        reason: 'overdue',
        why: 'overdue since 2026-04-01 (144 days ago, every 90d, last 2026-01-01)',
      }),
    ]);
  });
});
