import { execFileSync } from 'node:child_process';
import { readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { stringify } from 'yaml';
import { runSecrets } from '../helpers/cli.js';
import { approverKeyring, type ApproverKeyring, type TestApprover } from '../helpers/approvers.js';
import { makeDeployment } from '../helpers/deployment.js';
import { fakeAlnum, fakeHex } from '../helpers/fake-secrets.js';
import { basicAuthStatus, grantWorkerRead, startNginx } from '../helpers/nginx.js';
import { BACKUP_ENV, BACKUP_POLICY } from '../helpers/rotation.js';
import { describeWithTools } from '../helpers/system-tools.js';

let ring: ApproverKeyring;
let alice: TestApprover; // ed25519, the requester in most tests
let bob: TestApprover; // rsa3072, passphrase-protected
let chen: TestApprover;
let dave: TestApprover; // a real key, not pinned
let erin: TestApprover; // expired 2020-01-02
let frank: TestApprover; // revoked (the pinned copy carries the revocation)
let frankRevoked: string;

beforeAll(() => {
  ring = approverKeyring();
  alice = ring.add('alice');
  bob = ring.add('bob', { algo: 'rsa3072', passphrase: true });
  chen = ring.add('chen');
  dave = ring.add('dave');
  erin = ring.add('erin', { fakedTime: '20200101T000000', expire: '1d' });
  frank = ring.add('frank');
}, 120_000);
afterAll(() => ring?.remove());

const REQUEST = 'change.json';

/** A deployment with one guarded random secret and the pinned keys under keys/. */
function guardedDeployment(approval: Record<string, unknown> = {}) {
  frankRevoked ??= ring.revokedPublicKey(frank);
  const env = `JWT_SECRET=${fakeHex(64)}\nOTHER=${fakeHex(64)}\n`;
  const deployment = makeDeployment({
    files: {
      '.env': env,
      'keys/alice.asc': alice.publicKey,
      'keys/bob.asc': bob.publicKey,
      'keys/chen.asc': chen.publicKey,
      'keys/erin.asc': erin.publicKey,
      'keys/frank.asc': frankRevoked,
    },
    policy: {
      backup: BACKUP_POLICY,
      secrets: {
        'jwt-secret': { kind: 'random', rotate_every: '90d', env_key: 'JWT_SECRET' },
        other: { kind: 'random', rotate_every: '90d', env_key: 'OTHER' },
      },
      approval: {
        required: 2,
        approvers: ['keys/alice.asc', 'keys/bob.asc', 'keys/chen.asc', 'keys/erin.asc', 'keys/frank.asc'],
        self_approval: false,
        valid_for: '24h',
        applies_to: ['jwt-secret'],
        ...approval,
      },
    },
  });
  return deployment;
}

function cli(deployment: { root: string }, args: string[], env: Record<string, string> = {}) {
  return runSecrets(args, { cwd: deployment.root, env: { ...BACKUP_ENV, ...env } });
}

const request = (deployment: { root: string }, extra: string[] = ['--key', alice.secretKeyFile]) =>
  cli(deployment, ['rotate', 'jwt-secret', '--request', REQUEST, '--ticket', 'CHG-1234', ...extra]);

const approve = (deployment: { root: string }, who: TestApprover, file = REQUEST) =>
  cli(deployment, ['approve', file, '--key', who.secretKeyFile, '--yes'], { SECRETS_KEY_PASSPHRASE: who.passphrase });

const gpgSign = (deployment: { root: string; path(p: string): string }, who: TestApprover, fakedTime?: string) =>
  ring.detachSign(who, deployment.path(REQUEST), deployment.path(`${REQUEST}.${who.name}.sig`), fakedTime);

function auditLines(deployment: { path(p: string): string }): Array<Record<string, any>> {
  return readFileSync(deployment.path('.secrets/audit.jsonl'), 'utf8')
    .trim()
    .split('\n')
    .map((line) => JSON.parse(line));
}

describeWithTools(['gpg'], 'two-person approval through bin/secrets', () => {
  it('request → approve with ours (rsa3072) and gpg (ed25519) → rotate --approved; gpg verifies ours', async () => {
    const deployment = guardedDeployment();
    const before = readFileSync(deployment.path('.env'), 'utf8');

    const made = await request(deployment);
    expect(made.code, made.stderr).toBe(0);
    const digest = /sha256:[0-9a-f]{64}/.exec(made.stdout)![0];
    const text = readFileSync(deployment.path(REQUEST), 'utf8');
    expect(JSON.parse(text).requester.key).toBe(alice.fingerprint.toLowerCase());
    expect(text).not.toContain(before.split('\n')[0]!.slice('JWT_SECRET='.length));
    expect(JSON.parse(text).ticket).toBe('CHG-1234');

    // The approver needs the request only: run from a folder with no policy, on an absolute path.
    const signed = await runSecrets(['approve', deployment.path(REQUEST), '--key', bob.secretKeyFile, '--yes'], {
      cwd: ring.home,
      env: { SECRETS_KEY_PASSPHRASE: bob.passphrase, SECRETS_POLICY: undefined },
    });
    expect(signed.code, signed.stderr).toBe(0);
    expect(signed.stdout).toContain(digest);
    expect(signed.stdout).toMatch(/jwt-secret \(random\)[\s\S]*swap: {3}\.env: JWT_SECRET/);
    const ours = deployment.path(`${REQUEST}.${bob.fingerprint}.sig`);
    expect(readFileSync(ours, 'utf8')).toMatch(/^-----BEGIN PGP SIGNATURE-----/);
    expect(ring.verify(ours, deployment.path(REQUEST))).toBe(true);
    expect(`${signed.stdout}${signed.stderr}`).not.toContain(bob.passphrase);

    gpgSign(deployment, chen);
    const run = await cli(deployment, ['rotate', '--approved', REQUEST]);
    expect(run.code, run.stderr).toBe(0);
    // The requester's own signature is shown as not counted, not silently dropped.
    expect(run.stderr).toMatch(/note: not counted: alice made the request and cannot approve it/);
    expect(run.stdout).toMatch(/approved by bob \([0-9A-F]{40}\), chen/);
    const after = readFileSync(deployment.path('.env'), 'utf8');
    expect(after.split('\n')[0]).not.toBe(before.split('\n')[0]);
    expect(after.split('\n')[1]).toBe(before.split('\n')[1]);
    const rotated = auditLines(deployment).find((entry) => entry.action === 'rotated')!;
    expect(rotated.details.approval).toEqual({
      request: digest,
      ticket: 'CHG-1234',
      approvers: [bob.fingerprint.toLowerCase(), chen.fingerprint.toLowerCase()],
    });

    // An approval is used once.
    const again = await cli(deployment, ['rotate', '--approved', REQUEST]);
    expect(again.code).toBe(3);
    expect(again.stderr).toMatch(/this request was already carried out \(audit #\d+\)/);
  }, 60_000);

  it('a plain rotate of a guarded secret is refused; an unguarded one still rotates', async () => {
    const deployment = guardedDeployment();
    const before = readFileSync(deployment.path('.env'), 'utf8');
    const plain = await cli(deployment, ['rotate', 'jwt-secret', '--yes']);
    expect(plain.code).toBe(3);
    expect(plain.stderr.trim().split('\n')).toHaveLength(1);
    expect(plain.stderr).toMatch(/jwt-secret needs two-person approval .*secrets rotate jwt-secret --request FILE/);
    expect(readFileSync(deployment.path('.env'), 'utf8')).toBe(before);
    const other = await cli(deployment, ['rotate', 'other', '--yes']);
    expect(other.code, other.stderr).toBe(0);
  });

  const refusals: Array<{
    name: string;
    setup: (d: ReturnType<typeof guardedDeployment>) => Promise<void> | void;
    reason: RegExp | (() => RegExp);
    approval?: Record<string, unknown>;
    requestArgs?: string[];
  }> = [
    {
      name: 'one signature only',
      requestArgs: [],
      setup: (d) => gpgSign(d, chen),
      reason: /not approved: 1 of 2 signatures; no other signature found beside the request/,
    },
    {
      name: 'the same approver twice',
      setup: async (d) => {
        expect((await approve(d, bob)).code).toBe(0);
        gpgSign(d, bob);
      },
      reason: /1 of 2 signatures; .*bob signed more than once \(counted once\)/,
    },
    {
      name: 'the requester self-approving',
      setup: (d) => gpgSign(d, chen),
      reason: /1 of 2 signatures; alice made the request and cannot approve it \(self_approval: false\)/,
    },
    {
      name: 'an unknown key',
      setup: (d) => {
        gpgSign(d, chen);
        gpgSign(d, dave);
      },
      reason: () => new RegExp(`signed by key ${dave.fingerprint}, which is not a pinned approver`),
    },
    {
      name: 'an expired key',
      setup: (d) => {
        gpgSign(d, chen);
        gpgSign(d, erin, '20200101T120000');
      },
      reason: /1 of 2 signatures; .*erin's key expired 2020-01-02/,
    },
    {
      name: 'a revoked key',
      setup: (d) => {
        gpgSign(d, chen);
        ring.detachSign(frank, d.path(REQUEST), d.path(`${REQUEST}.frank.sig`));
      },
      reason: /1 of 2 signatures; .*frank's key was revoked \d{4}-\d\d-\d\d/,
    },
    {
      name: 'an expired request',
      approval: { valid_for: '1s' },
      setup: async (d) => {
        gpgSign(d, bob);
        gpgSign(d, chen);
        await new Promise((resolve) => setTimeout(resolve, 1100));
      },
      reason: /not approved: the request expired \d{4}-\d\d-\d\dT[\d:.]+Z \(make a new one/,
    },
    {
      name: 'a request whose file fingerprints no longer match',
      setup: (d) => {
        gpgSign(d, bob);
        gpgSign(d, chen);
        writeFileSync(d.path('.env'), `${readFileSync(d.path('.env'), 'utf8')}# edited\n`);
      },
      reason: /not approved: \.env changed since the request was made/,
    },
    {
      name: 'a signature over a different request',
      setup: async (d) => {
        gpgSign(d, bob);
        const other = await cli(d, ['rotate', 'jwt-secret', '--request', 'other.json']);
        expect(other.code, other.stderr).toBe(0);
        ring.detachSign(chen, d.path('other.json'), d.path(`${REQUEST}.chen.sig`));
      },
      reason: /1 of 2 signatures; .*chen's signature change\.json\.chen\.sig does not match this request/,
    },
    {
      name: 'a corrupted signature',
      setup: (d) => {
        gpgSign(d, bob);
        gpgSign(d, chen);
        const file = d.path(`${REQUEST}.chen.sig`);
        const text = readFileSync(file, 'utf8');
        writeFileSync(file, text.slice(0, text.length / 2));
      },
      reason: /1 of 2 signatures; .*change\.json\.chen\.sig is not a readable OpenPGP signature \(corrupted\?\)/,
    },
  ];

  for (const refusal of refusals) {
    it(`refused, nothing changed, one line: ${refusal.name}`, async () => {
      const deployment = guardedDeployment(refusal.approval);
      const made = await request(deployment, refusal.requestArgs);
      expect(made.code, made.stderr).toBe(0);
      await refusal.setup(deployment);
      const env = readFileSync(deployment.path('.env'), 'utf8');
      const audit = readFileSync(deployment.path('.secrets/audit.jsonl'), 'utf8');
      const result = await cli(deployment, ['rotate', '--approved', REQUEST]);
      expect(result.code, result.stdout).toBe(3);
      expect(result.stderr.trim().split('\n')).toHaveLength(1);
      expect(result.stderr).toMatch(typeof refusal.reason === 'function' ? refusal.reason() : refusal.reason);
      expect(readFileSync(deployment.path('.env'), 'utf8')).toBe(env);
      expect(readFileSync(deployment.path('.secrets/audit.jsonl'), 'utf8')).toBe(audit);
      expect(readdirSync(deployment.root)).not.toContain('backups');
    }, 30_000);
  }

  it('--signature FILE kept elsewhere counts like one beside the request', async () => {
    const deployment = guardedDeployment();
    expect((await request(deployment)).code).toBe(0);
    gpgSign(deployment, bob);
    ring.detachSign(chen, deployment.path(REQUEST), join(ring.home, 'chen-elsewhere.sig'));
    const result = await cli(deployment, [
      'rotate',
      '--approved',
      REQUEST,
      '--signature',
      join(ring.home, 'chen-elsewhere.sig'),
    ]);
    expect(result.code, result.stderr).toBe(0);
  });

  it('approve refuses an expired request and signs nothing', async () => {
    const deployment = guardedDeployment({ valid_for: '1s' });
    expect((await request(deployment)).code).toBe(0);
    await new Promise((resolve) => setTimeout(resolve, 1100));
    const result = await approve(deployment, chen);
    expect(result.code).toBe(3);
    expect(result.stderr).toMatch(/the request expired .*; nothing was signed/);
    expect(readdirSync(deployment.root).filter((name) => name.endsWith('.sig'))).toEqual([
      `${REQUEST}.${alice.fingerprint}.sig`,
    ]);
  });

  it('approve with a protected key: a wrong or missing passphrase signs nothing and never echoes it', async () => {
    const deployment = guardedDeployment();
    expect((await request(deployment, [])).code).toBe(0);
    const wrong = `${bob.passphrase}x`;
    const bad = await cli(deployment, ['approve', REQUEST, '--key', bob.secretKeyFile, '--yes'], {
      SECRETS_KEY_PASSPHRASE: wrong,
    });
    expect(bad.code).toBe(3);
    expect(bad.stderr).toMatch(/wrong passphrase for the private key/);
    expect(`${bad.stdout}${bad.stderr}`).not.toContain(wrong);
    const none = await cli(deployment, [
      'approve',
      REQUEST,
      '--key',
      bob.secretKeyFile,
      '--passphrase-env',
      'BOB_PASS',
    ]);
    expect(none.code).toBe(3);
    expect(none.stderr).toMatch(/protected by a passphrase and none was given \(set BOB_PASS, or run on a terminal/);
    const viaNamed = await cli(
      deployment,
      ['approve', REQUEST, '--key', bob.secretKeyFile, '--passphrase-env', 'BOB_PASS'],
      {
        BOB_PASS: bob.passphrase,
      },
    );
    expect(viaNamed.code, viaNamed.stderr).toBe(0);
    expect(readdirSync(deployment.root).filter((name) => name.endsWith('.sig'))).toEqual([
      `${REQUEST}.${bob.fingerprint}.sig`,
    ]);
  }, 30_000);

  it('a request edited after it was written is refused', async () => {
    const deployment = guardedDeployment();
    expect((await request(deployment)).code).toBe(0);
    const path = deployment.path(REQUEST);
    writeFileSync(path, `${JSON.stringify(JSON.parse(readFileSync(path, 'utf8')), null, 2)}\n`);
    const result = await approve(deployment, chen);
    expect(result.code).toBe(3);
    expect(result.stderr).toMatch(/change\.json: the change request was edited after it was written/);
  });

  it('revoke is never blocked, records approval: pending, and check stays critical until approve --after', async () => {
    const deployment = guardedDeployment();
    const revoked = await cli(deployment, ['revoke', 'jwt-secret', '--yes', '--no-scan']);
    expect(revoked.code, revoked.stderr).toBe(0);
    expect(revoked.stdout).toMatch(/approval: pending; .*secrets approve --after (\d+)/);
    const entry = auditLines(deployment).find((line) => line.action === 'revoked')!;
    expect(entry.details.approval).toBe('pending');

    const check = await cli(deployment, ['check']);
    expect(check.code).toBe(2);
    expect(check.stdout).toMatch(
      new RegExp(
        `jwt-secret was revoked on .* \\(audit #${entry.seq}\\) without approval: .*approve --after ${entry.seq}`,
      ),
    );
    // The replacement rotation is covered by the revocation: no "rotated without an approval".
    expect(check.stdout).not.toMatch(/without an approval/);

    const after = await cli(deployment, [
      'approve',
      '--after',
      String(entry.seq),
      '--key',
      dave.secretKeyFile,
      '--yes',
    ]);
    expect(after.code).toBe(3);
    expect(after.stderr).toMatch(/is not a pinned approver/);

    const approved = await cli(deployment, [
      'approve',
      '--after',
      String(entry.seq),
      '--key',
      chen.secretKeyFile,
      '--yes',
    ]);
    expect(approved.code, approved.stderr).toBe(0);
    const recheck = await cli(deployment, ['check']);
    expect(recheck.stdout).not.toMatch(/without approval/);
    expect(auditLines(deployment).at(-1)!.details.approver).toBe(chen.fingerprint.toLowerCase());
  }, 60_000);

  it('check: approver keys expiring within warn_before, expired or revoked; guarded secrets rotated unapproved', async () => {
    const soon = ring.add('gina', { expire: '10d' });
    const deployment = guardedDeployment();
    // Rotated before the policy guarded it.
    const policy = readFileSync(deployment.policyPath, 'utf8');
    writeFileSync(deployment.policyPath, policy.replace(/approval:[\s\S]*$/, ''));
    expect((await cli(deployment, ['rotate', 'jwt-secret', '--yes'])).code).toBe(0);
    writeFileSync(deployment.path('keys/gina.asc'), soon.publicKey);
    writeFileSync(deployment.policyPath, policy.replace('- keys/alice.asc', '- keys/alice.asc\n    - keys/gina.asc'));
    const check = await cli(deployment, ['check']);
    expect(check.code).toBe(2);
    expect(check.stdout).toMatch(/approver key keys\/gina\.asc \(gina, [0-9A-F]{40}\) expires \d{4}-\d\d-\d\d/);
    expect(check.stdout).toMatch(/approver key keys\/erin\.asc .* expired 2020-01-02/);
    expect(check.stdout).toMatch(/approver key keys\/frank\.asc .* was revoked/);
    expect(check.stdout).toMatch(/jwt-secret was last rotated on .* without an approval/);
  }, 30_000);

  it('policy errors name file:line: an unknown secret in applies_to, more signatures than approvers', async () => {
    const deployment = guardedDeployment({ applies_to: ['jwt-secret', 'nope'] });
    const result = await cli(deployment, ['check']);
    expect(result.code).toBe(3);
    expect(result.stderr).toMatch(/secrets\.yaml:\d+:\d+: approval\.applies_to\.1: expected the id of a secret/);
    const many = guardedDeployment({ required: 6 });
    const second = await cli(many, ['check']);
    expect(second.stderr).toMatch(
      /secrets\.yaml:\d+:\d+: approval\.required: 6 signatures required but only 5 approver key\(s\) listed/,
    );
  });
});

describeWithTools(
  ['gpg', 'nginx', 'htpasswd'],
  'two-person approval of an htpasswd rotation behind a real nginx',
  () => {
    it('the whole flow: request, two approvals, rotate --approved; nginx takes the new password only', async () => {
      const passwords = { admin: fakeAlnum(24), alice: fakeAlnum(24) };
      const line = (user: 'admin' | 'alice') =>
        execFileSync('htpasswd', ['-nbB', '-C', '5', user, passwords[user]], { encoding: 'utf8' }).trim();
      const original = `${line('alice')}\n${line('admin')}\n`;
      const deployment = makeDeployment({
        files: {
          'nginx/.htpasswd': { content: original, mode: 0o640 },
          'keys/alice.asc': alice.publicKey,
          'keys/bob.asc': bob.publicKey,
          'keys/chen.asc': chen.publicKey,
        },
      });
      const file = deployment.path('nginx/.htpasswd');
      const nginx = await startNginx({ userFile: file });
      grantWorkerRead(nginx, deployment.root, file);
      writeFileSync(
        deployment.policyPath,
        stringify({
          version: 1,
          deployment: 'mt5-crs',
          backup: BACKUP_POLICY,
          secrets: {
            'dashboard-password': {
              kind: 'htpasswd',
              rotate_every: '90d',
              file: 'nginx/.htpasswd',
              user: 'admin',
              bcrypt_cost: 5,
              after_change: [nginx.testCommand, nginx.reloadCommand],
              probe: { url: nginx.url },
            },
          },
          approval: {
            required: 2,
            approvers: ['keys/alice.asc', 'keys/bob.asc', 'keys/chen.asc'],
            self_approval: false,
            valid_for: '24h',
            applies_to: 'all',
          },
        }),
      );
      const run = (args: string[], env: Record<string, string> = {}, input?: string) =>
        runSecrets(args, {
          cwd: deployment.root,
          env: { ...BACKUP_ENV, SECRETS_NGINX_CONF: nginx.confPath, PATH: process.env.PATH ?? '', ...env },
          ...(input === undefined ? {} : { input }),
        });
      const next = fakeAlnum(24);

      const refused = await run(['rotate', 'dashboard-password', '--password-stdin', '--yes'], {}, `${next}\n`);
      expect(refused.code).toBe(3);
      expect(refused.stderr).toMatch(/dashboard-password needs two-person approval/);

      const made = await run([
        'rotate',
        'dashboard-password',
        '--request',
        'rotate-dashboard.json',
        '--ticket',
        'CHG-7',
        '--key',
        alice.secretKeyFile,
      ]);
      expect(made.code, made.stderr).toBe(0);
      expect(made.stdout).toMatch(/swap: {3}nginx\/\.htpasswd: line of user admin/);
      expect(made.stdout).toContain(nginx.reloadCommand);
      for (const who of [bob, chen]) {
        const signed = await run(['approve', 'rotate-dashboard.json', '--key', who.secretKeyFile, '--yes'], {
          SECRETS_KEY_PASSPHRASE: who.passphrase,
        });
        expect(signed.code, signed.stderr).toBe(0);
      }
      const rotated = await run(['rotate', '--approved', 'rotate-dashboard.json', '--password-stdin'], {}, `${next}\n`);
      expect(rotated.code, rotated.stderr).toBe(0);
      expect(`${rotated.stdout}${rotated.stderr}`).not.toContain(next);
      expect(await basicAuthStatus(nginx.url, { user: 'admin', password: next })).toBe(200);
      expect(await basicAuthStatus(nginx.url, { user: 'admin', password: passwords.admin })).toBe(401);
      expect(await basicAuthStatus(nginx.url, { user: 'alice', password: passwords.alice })).toBe(200);
      const audit = readFileSync(deployment.path('.secrets/audit.jsonl'), 'utf8');
      expect(audit).not.toContain(next);
      const entry = audit
        .trim()
        .split('\n')
        .map((text) => JSON.parse(text))
        .find((item) => item.action === 'rotated');
      expect(entry.details.approval.ticket).toBe('CHG-7');
      // Signature files are read in name order, and both names here are fingerprints: compare as sets.
      expect([...entry.details.approval.approvers].sort()).toEqual(
        [bob.fingerprint.toLowerCase(), chen.fingerprint.toLowerCase()].sort(),
      );
      const check = await run(['check']);
      expect(check.stdout).not.toMatch(/without an approval/);
    }, 60_000);
  },
);
