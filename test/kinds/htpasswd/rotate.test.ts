import { chmodSync, existsSync, mkdirSync, readFileSync, readdirSync, statSync } from 'node:fs';
import { spawnSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { bcryptHash, bcryptMatches } from '../../../src/core/bcrypt.js';
import { SecretsError } from '../../../src/core/errors.js';
import { parseHtpasswd } from '../../../src/core/htpasswd.js';
import { Secret } from '../../../src/core/secret.js';
import { makeDeployment, type TempDeployment } from '../../helpers/deployment.js';
import { scriptedPrompts, testDeps } from '../../helpers/deps.js';
import { fakeAlnum } from '../../helpers/fake-secrets.js';
import { gpgHome } from '../../helpers/gpg.js';
import { describeWithTools } from '../../helpers/system-tools.js';
import { writeTree } from '../../helpers/temp-dir.js';
import { rotateOne } from '../../helpers/rotate-one.js';

const HASH_CHARS = './ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789';
const fakeApr1 = () => `$apr1$${fakeAlnum(8, HASH_CHARS)}$${fakeAlnum(22, HASH_CHARS)}`;

/** A deployment with a CRLF-free htpasswd holding a comment, two other users and admin. */
async function dashboard(
  options: { secret?: Record<string, unknown>; htpasswd?: string | null; htpasswdMode?: number } = {},
): Promise<TempDeployment & { original: string | undefined }> {
  const original =
    options.htpasswd === null
      ? undefined
      : (options.htpasswd ??
        `# dashboard users\nalice:${fakeApr1()}\nadmin:${await bcryptHash(new Secret(fakeAlnum(24)), 5)}\n\nbob:${fakeApr1()}\n`);
  const deployment = makeDeployment({
    files:
      original === undefined ? {} : { 'nginx/.htpasswd': { content: original, mode: options.htpasswdMode ?? 0o640 } },
    policy: {
      deployment: 'mt5-crs',
      secrets: {
        dashboard: {
          kind: 'htpasswd',
          rotate_every: '90d',
          file: 'nginx/.htpasswd',
          user: 'admin',
          bcrypt_cost: 5,
          ...options.secret,
        },
      },
    },
  });
  return { ...deployment, original };
}

function rotate(deployment: TempDeployment, options: { passwordFrom?: 'prompt' | 'stdin' }, deps = testDeps()) {
  return rotateOne(deployment.policyPath, 'dashboard', deps, options);
}

async function refusal(promise: Promise<unknown>): Promise<SecretsError> {
  const error = await promise.then(
    () => undefined,
    (caught: unknown) => caught,
  );
  expect(error).toBeInstanceOf(SecretsError);
  return error as SecretsError;
}

function auditText(deployment: TempDeployment): string {
  const path = deployment.path('.secrets/audit.jsonl');
  return existsSync(path) ? readFileSync(path, 'utf8') : '';
}

describe('htpasswd kind', () => {
  it('on a terminal: generates, replaces only the admin line, keeps mode 640, shows the password once', async () => {
    const deployment = await dashboard();
    const deps = testDeps({ interactive: true });
    const result = await rotate(deployment, {}, deps);

    const text = readFileSync(deployment.path('nginx/.htpasswd'), 'utf8');
    const before = deployment.original!.split('\n');
    const after = text.split('\n');
    expect(after.filter((line, index) => line !== before[index])).toEqual([after[2]]);
    const entry = parseHtpasswd(text, 'h').entries.find((candidate) => candidate.user === 'admin')!;
    expect(entry.hash.startsWith('$2y$05$')).toBe(true);
    expect(statSync(deployment.path('nginx/.htpasswd')).mode & 0o777).toBe(0o640);

    const shown = deps.captured.stdout.join('').match(/new password for admin: (\S+)/)![1]!;
    expect(shown).toHaveLength(24);
    expect(await bcryptMatches(new Secret(shown), entry.hash)).toBe(true);
    // Shown exactly once, never on stderr, never in the audit trail or the handler's progress lines.
    expect(deps.captured.stdout.join('').split(shown)).toHaveLength(2);
    expect(deps.captured.stderr.join('')).not.toContain(shown);
    expect(auditText(deployment)).toContain('"action":"rotated"');
    expect(auditText(deployment)).not.toContain(shown);
    expect(deps.captured.stdout.join('')).toMatch(/the new password of admin is generated, 24 characters/);
    expect(deps.captured.stdout.join('')).toMatch(/\$2y\$ bcrypt line at cost 5 verifies the new password/);
    expect(result?.fingerprint).toMatch(/^hmac-sha256:/);
  });

  it('keeps CRLF line endings and every other byte', async () => {
    const original = `alice:${fakeApr1()}\r\nadmin:${fakeApr1()}\r\n# trailing comment\r\n`;
    const deployment = await dashboard({ htpasswd: original });
    await rotate(deployment, {}, testDeps({ interactive: true }));
    const text = readFileSync(deployment.path('nginx/.htpasswd'), 'utf8');
    const lines = text.split('\r\n');
    expect(lines[0]).toBe(original.split('\r\n')[0]);
    expect(lines[1]).toMatch(/^admin:\$2y\$05\$/);
    expect(lines.slice(2)).toEqual(['# trailing comment', '']);
  });

  it('adds the user when the file lacks it', async () => {
    const original = `alice:${fakeApr1()}\n`;
    const deployment = await dashboard({ htpasswd: original });
    await rotate(deployment, {}, testDeps({ interactive: true }));
    const text = readFileSync(deployment.path('nginx/.htpasswd'), 'utf8');
    expect(text.startsWith(original)).toBe(true);
    expect(text.slice(original.length)).toMatch(/^admin:\$2y\$05\$[./A-Za-z0-9]{53}\n$/);
  });

  it('creates a missing file when the policy says create: true', async () => {
    const deployment = await dashboard({ htpasswd: null, secret: { create: true } });
    const missingFolder = await refusal(rotate(deployment, {}, testDeps({ interactive: true })));
    expect(missingFolder.message).toMatch(/its folder .*nginx does not exist/);
    mkdirSync(deployment.path('nginx'));
    await rotate(deployment, {}, testDeps({ interactive: true }));
    const text = readFileSync(deployment.path('nginx/.htpasswd'), 'utf8');
    expect(text).toMatch(/^admin:\$2y\$05\$[./A-Za-z0-9]{53}\n$/);
    expect(statSync(deployment.path('nginx/.htpasswd')).mode & 0o777).toBe(0o640);
  });

  it('refuses a missing file otherwise, with what to do', async () => {
    const deployment = await dashboard({ htpasswd: null });
    const error = await refusal(rotate(deployment, {}, testDeps({ interactive: true })));
    expect(error.code).toBe('htpasswd-missing');
    expect(error.exitCode).toBe(3);
    expect(error.where).toBe(deployment.path('nginx/.htpasswd'));
    expect(error.hint).toMatch(/create: true/);
    expect(existsSync(deployment.path('nginx/.htpasswd'))).toBe(false);
  });

  it('stops at a malformed line, naming file:line, and changes nothing', async () => {
    const original = `alice:${fakeApr1()}\nthis line has no colon\nadmin:${fakeApr1()}\n`;
    const deployment = await dashboard({ htpasswd: original });
    const error = await refusal(rotate(deployment, {}, testDeps({ interactive: true })));
    expect(error.code).toBe('htpasswd-syntax');
    expect(error.where).toBe(`${deployment.path('nginx/.htpasswd')}:2`);
    expect(readFileSync(deployment.path('nginx/.htpasswd'), 'utf8')).toBe(original);
    expect(auditText(deployment)).not.toContain('"action":"rotated"');
  });

  it('fails with exit 3 and an untouched file when the file cannot be replaced', async (context) => {
    const deployment = await dashboard();
    const dir = deployment.path('nginx');
    // Root ignores permission bits; the immutable attribute stops even root from renaming into the folder.
    const asRoot = process.getuid?.() === 0;
    if (asRoot) {
      if (spawnSync('chattr', ['+i', dir]).status !== 0) context.skip();
    } else {
      chmodSync(dir, 0o555);
    }
    try {
      const error = await refusal(rotate(deployment, {}, testDeps({ interactive: true })));
      expect(error.exitCode).toBe(3);
      expect(error.message).toMatch(/EPERM|EACCES/);
      expect(readFileSync(deployment.path('nginx/.htpasswd'), 'utf8')).toBe(deployment.original);
      expect(readdirSync(dir)).toEqual(['.htpasswd']);
    } finally {
      if (asRoot) spawnSync('chattr', ['-i', dir]);
      else chmodSync(dir, 0o755);
    }
  });

  it.each([
    ['too short', () => fakeAlnum(12), /12 characters; at least 16/],
    ['a word-and-year scheme', () => 'Dashboard@2026!Secure', /word-and-year pattern/],
    ['the user name', () => `${fakeAlnum(8)}admin${fakeAlnum(8)}`, /user name "admin"/],
    ['the deployment name', () => `${fakeAlnum(8)}mt5-crs${fakeAlnum(8)}`, /deployment name "mt5-crs"/],
  ])(
    'refuses a weak password from standard input (%s) with the reason and without the value',
    async (_name, make, reason) => {
      const deployment = await dashboard();
      const password = make();
      const error = await refusal(rotate(deployment, { passwordFrom: 'stdin' }, testDeps({ stdin: `${password}\n` })));
      expect(error.code).toBe('weak-password');
      expect(error.message).toMatch(reason);
      expect(error.toLine()).not.toContain(password);
      expect(readFileSync(deployment.path('nginx/.htpasswd'), 'utf8')).toBe(deployment.original);
    },
  );

  it('refuses a password the audit trail has seen for this secret', async () => {
    const deployment = await dashboard();
    const first = fakeAlnum(24);
    await rotate(deployment, { passwordFrom: 'stdin' }, testDeps({ stdin: `${first}\n` }));
    await rotate(deployment, { passwordFrom: 'stdin' }, testDeps({ stdin: `${fakeAlnum(24)}\n` }));
    const afterSecond = readFileSync(deployment.path('nginx/.htpasswd'), 'utf8');
    const error = await refusal(rotate(deployment, { passwordFrom: 'stdin' }, testDeps({ stdin: `${first}\n` })));
    expect(error.message).toMatch(/used before for this secret/);
    expect(readFileSync(deployment.path('nginx/.htpasswd'), 'utf8')).toBe(afterSecond);
    expect(auditText(deployment)).not.toContain(first);
  });

  it('refuses the current password itself', async () => {
    const deployment = await dashboard();
    const current = fakeAlnum(24);
    await rotate(deployment, { passwordFrom: 'stdin' }, testDeps({ stdin: current }));
    // Forget the trail: the current line itself still gives the reuse away.
    spawnSync('rm', ['-rf', deployment.path('.secrets')]);
    const error = await refusal(rotate(deployment, { passwordFrom: 'stdin' }, testDeps({ stdin: current })));
    expect(error.message).toMatch(/it is the current password/);
  });

  it('asks twice at a hidden prompt and refuses two different entries', async () => {
    const deployment = await dashboard();
    const typed = fakeAlnum(20);
    const prompts = scriptedPrompts([typed, typed]);
    const deps = testDeps({ interactive: true, prompts });
    await rotate(deployment, { passwordFrom: 'prompt' }, deps);
    const entry = parseHtpasswd(readFileSync(deployment.path('nginx/.htpasswd'), 'utf8'), 'h').entries.find(
      (candidate) => candidate.user === 'admin',
    )!;
    expect(await bcryptMatches(new Secret(typed), entry.hash)).toBe(true);
    // The operator typed it, so it is not shown back.
    expect(deps.captured.stdout.join('')).not.toContain(typed);

    const mismatch = await refusal(
      rotate(
        deployment,
        { passwordFrom: 'prompt' },
        testDeps({ interactive: true, prompts: scriptedPrompts([fakeAlnum(20), fakeAlnum(20)]) }),
      ),
    );
    expect(mismatch.code).toBe('password-mismatch');
  });

  it('with a probe on a terminal, asks for the current password and refuses a wrong one before changing anything', async () => {
    const deployment = await dashboard({ secret: { probe: { url: 'http://127.0.0.1:9/' } } });
    const error = await refusal(
      rotate(deployment, {}, testDeps({ interactive: true, prompts: scriptedPrompts([fakeAlnum(24)]) })),
    );
    expect(error.code).toBe('current-password-mismatch');
    expect(error.where).toBe(`${deployment.path('nginx/.htpasswd')}:3`);
    expect(readFileSync(deployment.path('nginx/.htpasswd'), 'utf8')).toBe(deployment.original);
  });

  it('refuses, before changing anything, a generated password nobody would receive', async () => {
    const deployment = await dashboard();
    const error = await refusal(rotate(deployment, {}, testDeps({ interactive: false })));
    expect(error.code).toBe('htpasswd-undeliverable');
    expect(error.exitCode).toBe(3);
    expect(error.hint).toMatch(/--password-stdin/);
    expect(readFileSync(deployment.path('nginx/.htpasswd'), 'utf8')).toBe(deployment.original);
    expect(auditText(deployment)).not.toContain('"action":"rotated"');
  });

  it('refuses a delivery whose recipient key is missing, before changing anything', async () => {
    const deployment = await dashboard({ secret: { deliver: { recipients: ['keys/ops.asc'], dir: 'outbox' } } });
    const error = await refusal(rotate(deployment, {}, testDeps({ interactive: false })));
    expect(error.code).toBe('deliver-recipient');
    expect(readFileSync(deployment.path('nginx/.htpasswd'), 'utf8')).toBe(deployment.original);
  });
});

describeWithTools(['gpg'], 'htpasswd kind, delivery to OpenPGP recipients', () => {
  it('off a terminal with deliver: the password encrypted to the recipients (mode 600), gpg opens it, only the path is printed', async () => {
    const deployment = await dashboard({
      secret: { deliver: { recipients: ['keys/ops.asc'], dir: 'var/secrets/outbox' } },
    });
    const gpg = gpgHome();
    gpg.generateKey('ops@example.invalid');
    writeTree(deployment.root, { 'keys/ops.asc': { content: gpg.exportPublic('ops@example.invalid'), mode: 0o644 } });
    const deps = testDeps({ interactive: false });
    await rotate(deployment, {}, deps);

    const outbox = deployment.path('var/secrets/outbox');
    const [name] = readdirSync(outbox);
    expect(name).toMatch(/^dashboard-\d{8}T\d{6}Z\.gpg$/);
    expect(statSync(`${outbox}/${name}`).mode & 0o777).toBe(0o600);
    expect(statSync(outbox).mode & 0o777).toBe(0o700);
    expect(deps.captured.stdout.join('')).toContain(`encrypted password for admin: ${outbox}/${name}\n`);

    const password = gpg
      .run(['--decrypt', `${outbox}/${name}`])
      .toString('utf8')
      .replace(/\n$/, '');
    expect(password).toHaveLength(24);
    const entry = parseHtpasswd(readFileSync(deployment.path('nginx/.htpasswd'), 'utf8'), 'h').entries.find(
      (candidate) => candidate.user === 'admin',
    )!;
    expect(await bcryptMatches(new Secret(password), entry.hash)).toBe(true);
    expect(deps.captured.stderr.join('')).not.toContain(password);
    expect(deps.captured.stdout.join('')).not.toContain(password);
  });

  it('the encrypted copy is written before the swap: an outbox that cannot be written refuses with nothing changed', async () => {
    const deployment = await dashboard({
      secret: { deliver: { recipients: ['keys/ops.asc'], dir: 'not-a-folder/outbox' } },
    });
    const gpg = gpgHome();
    gpg.generateKey('ops@example.invalid');
    // A regular file where the outbox's parent folder should be: fails even for root.
    writeTree(deployment.root, {
      'keys/ops.asc': { content: gpg.exportPublic('ops@example.invalid'), mode: 0o644 },
      'not-a-folder': 'x',
    });
    await expect(rotate(deployment, {}, testDeps({ interactive: false }))).rejects.toBeInstanceOf(Error);
    expect(readFileSync(deployment.path('nginx/.htpasswd'), 'utf8')).toBe(deployment.original);
  });

  it('a rotation that fails after the test removes its unused encrypted copy', async () => {
    const deployment = await dashboard({
      secret: {
        deliver: { recipients: ['keys/ops.asc'], dir: 'outbox' },
        after_change: ['if [ -f .ran ]; then exit 0; fi; touch .ran; exit 1'],
      },
    });
    const gpg = gpgHome();
    gpg.generateKey('ops@example.invalid');
    writeTree(deployment.root, { 'keys/ops.asc': { content: gpg.exportPublic('ops@example.invalid'), mode: 0o644 } });
    const error = await refusal(
      rotate(deployment, {}, testDeps({ interactive: false, env: { SECRETS_BACKUP_PASSPHRASE: fakeAlnum(24) } })),
    );
    expect(error.code).toBe('rotation-rolled-back');
    expect(readFileSync(deployment.path('nginx/.htpasswd'), 'utf8')).toBe(deployment.original);
    expect(readdirSync(deployment.path('outbox'))).toEqual([]);
  });

  it('a recipient file that is not a usable public key refuses the rotation before anything changes', async () => {
    const deployment = await dashboard({ secret: { deliver: { recipients: ['keys/ops.asc'], dir: 'outbox' } } });
    writeTree(deployment.root, { 'keys/ops.asc': { content: 'not a key\n', mode: 0o644 } });
    const error = await refusal(rotate(deployment, {}, testDeps({ interactive: false })));
    expect(error.exitCode).toBe(3);
    expect(readFileSync(deployment.path('nginx/.htpasswd'), 'utf8')).toBe(deployment.original);
    expect(existsSync(deployment.path('outbox'))).toBe(false);
  });
});
