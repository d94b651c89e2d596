/**
 * Issue 12: the traps a new operator met in the first hour on two real deployments, each through
 * bin/secrets on a real temp deployment.
 */
import { execFileSync, spawn } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { existsSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { BIN, runSecrets, type CliResult } from '../helpers/cli.js';
import { fakeAlnum, fakeHex } from '../helpers/fake-secrets.js';
import { makeDeployment } from '../helpers/deployment.js';
import { commitFiles, initRepo } from '../helpers/git-repo.js';
import { basicAuthStatus, grantWorkerRead, startNginx } from '../helpers/nginx.js';
import { describeWithTools } from '../helpers/system-tools.js';
import { startDingtalkServer } from '../helpers/dingtalk-server.js';
import { tempDir, writeTree } from '../helpers/temp-dir.js';

/** The backup passphrase init's policy names; rotation encrypts a copy before every swap. */
const PASSPHRASE = { SECRETS_BACKUP_PASSPHRASE: `pass-${fakeHex(16)}` };

/** bin/secrets started the way a shell starts it (its own #! line), not as `node bin/secrets`. */
function runExecutable(args: string[], cwd: string): Promise<CliResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(BIN, args, { cwd, env: { ...process.env, NO_COLOR: '1' }, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString('utf8')));
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString('utf8')));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stdout, stderr }));
  });
}

describe('row 3: init --env-file is not eaten by node', () => {
  it('the old spelling gets our own one-line error and exit 3, nothing written', async () => {
    const root = tempDir('secrets-row3-');
    const result = await runExecutable(['init', '--env-file', 'nope.env', '--yes'], root);
    expect(result.stderr).not.toContain('node:');
    expect(result.stderr).toContain('--dotenv');
    expect(result.code).toBe(3);
  });

  it('an existing env file named by the old spelling is not loaded into the process either', async () => {
    const root = tempDir('secrets-row3-');
    writeTree(root, { 'other.env': `SECRET_KEY=${fakeHex(64)}\n` });
    const result = await runExecutable(['init', '--env-file', 'other.env', '--yes'], root);
    expect(result.code).toBe(3);
    expect(result.stderr).toContain('--dotenv');
  });

  it('--dotenv FILE reads that file; a missing one is exit 3 naming it', async () => {
    const root = tempDir('secrets-row3-');
    writeTree(root, { 'other.env': `SECRET_KEY=${fakeHex(64)}\n` });
    const ok = await runExecutable(['init', '--dotenv', 'other.env', '--yes', '--adopted-on', '2026-11-01'], root);
    expect(ok.stderr).toBe('');
    expect(readFileSync(join(root, 'secrets.yaml'), 'utf8')).toContain('env_file: other.env');
    const missing = await runSecrets(['init', '--dotenv', 'nope.env', '--yes', '--force'], { cwd: root });
    expect(missing.code).toBe(3);
    expect(missing.stderr).toContain('nope.env');
  });
});

/** KEY=value lines of an env file (values unquoted, as the tests write them). */
function envOf(text: string): Record<string, string> {
  return Object.fromEntries(
    text
      .split('\n')
      .filter((line) => line.includes('='))
      .map((line) => [line.slice(0, line.indexOf('=')), line.slice(line.indexOf('=') + 1)]),
  );
}

describe('row 6: a padded base64 key keeps its byte length', () => {
  it('init calls a 44-character key 32 bytes, and after rotation the app still decodes 32 bytes', async () => {
    const root = tempDir('secrets-row6-');
    writeTree(root, { '.env': `AES_KEY=${randomBytes(32).toString('base64')}\n` });
    const init = await runSecrets(['init', '--yes', '--adopted-on', '2026-11-01'], { cwd: root });
    expect(init.code, init.stderr).toBeLessThan(3);
    expect(readFileSync(join(root, 'secrets.yaml'), 'utf8')).toMatch(/bytes: 32\n\s+encoding: base64\n/);
    const rotate = await runSecrets(['rotate', 'aes-key', '--yes'], { cwd: root, env: PASSPHRASE });
    expect(rotate.code, rotate.stderr).toBe(0);
    const value = envOf(readFileSync(join(root, '.env'), 'utf8')).AES_KEY!;
    expect(value).toMatch(/^[A-Za-z0-9+/]+=*$/);
    expect(Buffer.from(value, 'base64')).toHaveLength(32);
  });
});

describe('row 7: numbers, booleans, durations, hosts and ports are config', () => {
  it('init proposes none of them, and still proposes the real secret beside them', async () => {
    const root = tempDir('secrets-row7-');
    writeTree(root, {
      '.env': [
        'ACCESS_TOKEN_EXPIRE_MINUTES=60',
        'API_KEY_TTL=30d',
        'SECRET_KEY_ROTATION_ENABLED=true',
        'API_TOKEN_TIMEOUT=2.5',
        'REDIS_SECRET_HOST=redis.internal',
        // Joined at run time: the repository's own scan (a generic rule) would flag the whole line.
        ['API_KEY_SERVER', '127.0.0.1:8443'].join('='),
        'SECRET_PORT=6379',
        `JWT_SECRET_KEY=${fakeHex(64)}`,
        '',
      ].join('\n'),
    });
    const init = await runSecrets(['--json', 'init', '--yes', '--adopted-on', '2026-11-01'], { cwd: root });
    expect(init.code, init.stderr).toBeLessThan(3);
    expect((JSON.parse(init.stdout) as { secrets: string[] }).secrets).toEqual(['jwt-secret-key']);
  });
});

describe('row 5: .env lines keep their own quoting', () => {
  it('an unquoted DingTalk URL stays unquoted after a rotation (docker --env-file keeps quotes)', async () => {
    const server = await startDingtalkServer();
    try {
      const root = tempDir('secrets-row5-');
      const [oldRobot, newRobot] = [server.addRobot(), server.addRobot()];
      writeTree(root, {
        '.env': `DINGTALK_WEBHOOK_URL=${oldRobot.url}\nDINGTALK_SECRET=${oldRobot.secret}\nB64_SECRET=${randomBytes(32).toString('base64')}\n`,
      });
      const init = await runSecrets(['init', '--yes', '--adopted-on', '2026-11-01'], { cwd: root });
      expect(init.code, init.stderr).toBeLessThan(3);
      const [newUrl, newSecret] = [newRobot.url, newRobot.secret!];
      const rotate = await runSecrets(['rotate', 'dingtalk', 'b64-secret', '--yes'], {
        cwd: root,
        env: PASSPHRASE,
        input: `DINGTALK_WEBHOOK_URL=${newUrl}\nDINGTALK_SECRET=${newSecret}\n`,
      });
      expect(rotate.code, rotate.stderr).toBe(0);
      const text = readFileSync(join(root, '.env'), 'utf8');
      expect(text).toContain(`DINGTALK_WEBHOOK_URL=${newUrl}\n`);
      expect(text).toContain(`DINGTALK_SECRET=${newSecret}\n`);
      expect(text).toMatch(/^B64_SECRET=[A-Za-z0-9+/=]+$/m);
    } finally {
      await server.close();
    }
  });
});

describeWithTools(['htpasswd'], 'row 1: a typed htpasswd password that only looks new is refused', () => {
  /** A legacy deployment: the admin line written by Apache's htpasswd as `$apr1$` (MD5), the password from stdin. */
  function legacySite(password: string) {
    const line = execFileSync('htpasswd', ['-nim', 'admin'], { input: `${password}\n`, encoding: 'utf8' }).trim();
    const deployment = makeDeployment({
      files: { 'nginx/.htpasswd': { content: `${line}\n`, mode: 0o640 } },
      policy: {
        deployment: 'dashboard-site',
        backup: { dir: 'backups', passphrase_env: 'SECRETS_BACKUP_PASSPHRASE', keep: '30d' },
        secrets: {
          'dashboard-password': {
            kind: 'htpasswd',
            rotate_every: '90d',
            file: 'nginx/.htpasswd',
            user: 'admin',
            bcrypt_cost: 5,
          },
        },
      },
    });
    const before = readFileSync(deployment.path('nginx/.htpasswd'), 'utf8');
    const rotate = (typed: string) =>
      runSecrets(['rotate', 'dashboard-password', '--password-stdin', '--yes'], {
        cwd: deployment.root,
        env: PASSPHRASE,
        input: `${typed}\n`,
      });
    return { deployment, before, rotate };
  }
  const word = () => fakeAlnum(1, 'BCDFGHJKLMNPRSTVWZ') + fakeAlnum(5, 'aeioubcdfghklmnprstvz');

  it.each([
    ['the legacy password with the year bumped', (w: string) => [`MT5${w}@2026!Secure`, `MT5${w}@2027!Secure`]],
    ['a year first, then the words', (w: string) => [`${fakeAlnum(24)}`, `2027!${w}#Secure${w}`]],
    ['a repeated half', (w: string) => [`${fakeAlnum(24)}`, `${w}2026!${w}2026`]],
    [
      'a bumped counter without a year (only the old line knows)',
      (w: string) => [`correct-${w}-battery-staple-7`, `correct-${w}-battery-staple-8`],
    ],
  ])('%s: exit 3, the file untouched, the password not echoed', async (_name, make) => {
    const [old, typed] = make(word());
    const site = legacySite(old!);
    const result = await site.rotate(typed!);
    expect(result.code, result.stderr).toBe(3);
    expect(result.stderr).toContain('refused');
    expect(result.stdout + result.stderr).not.toContain(typed!);
    expect(readFileSync(site.deployment.path('nginx/.htpasswd'), 'utf8')).toBe(site.before);
  });

  it('a password unrelated to the old one goes live', async () => {
    const site = legacySite(`correct-${word()}-battery-staple-7`);
    const result = await site.rotate(`${fakeAlnum(20)}-${fakeAlnum(6)}`);
    expect(result.code, result.stderr).toBe(0);
    expect(readFileSync(site.deployment.path('nginx/.htpasswd'), 'utf8')).toMatch(/^admin:\$2y\$05\$/);
  });
});

describe('row 2: a policy env_key the .env does not have', () => {
  function walletDeployment() {
    const appKey = `APP_WALLET_KEY=${fakeHex(64)}\n`;
    return makeDeployment({
      files: { '.env': appKey },
      policy: {
        backup: { dir: 'backups', passphrase_env: 'SECRETS_BACKUP_PASSPHRASE', keep: '30d' },
        secrets: {
          'wallet-private-key': {
            kind: 'manual',
            env_key: 'WALLET_PRIVATE_KEY',
            rotate_every: '180d',
            steps: ['move the funds'],
          },
          'jwt-secret': { kind: 'random', env_key: 'JWT_SECRET', bytes: 32, encoding: 'hex', rotate_every: '90d' },
        },
      },
    });
  }

  it('check is critical and names the key, for a manual secret too', async () => {
    const deployment = walletDeployment();
    const result = await runSecrets(['check'], { cwd: deployment.root });
    expect(result.code).toBe(2);
    expect(result.stdout).toMatch(/CRITICAL .*WALLET_PRIVATE_KEY is not in \.env/);
    expect(result.stdout).toMatch(/CRITICAL .*JWT_SECRET is not in \.env/);
  });

  it('rotate refuses to add the key (exit 3, .env untouched) unless --add', async () => {
    const deployment = walletDeployment();
    const before = readFileSync(deployment.path('.env'), 'utf8');
    const refused = await runSecrets(['rotate', 'jwt-secret', '--yes'], { cwd: deployment.root, env: PASSPHRASE });
    expect(refused.code).toBe(3);
    expect(refused.stderr).toContain('JWT_SECRET is not in');
    expect(refused.stderr).toContain('--add');
    expect(refused.stdout).not.toMatch(/^rotated/m);
    expect(readFileSync(deployment.path('.env'), 'utf8')).toBe(before);

    const added = await runSecrets(['rotate', 'jwt-secret', '--yes', '--add'], {
      cwd: deployment.root,
      env: PASSPHRASE,
    });
    expect(added.code, added.stderr).toBe(0);
    expect(readFileSync(deployment.path('.env'), 'utf8')).toMatch(/^JWT_SECRET=[0-9a-f]{64}$/m);
  });
});

describe('row 8: one finding per root cause', () => {
  const random = (key: string) => ({ kind: 'random', env_key: key, bytes: 32, encoding: 'hex', rotate_every: '90d' });
  function leakyDeployment() {
    const values = { JWT_SECRET: fakeHex(64), AES_KEY: fakeHex(64), SESSION_SECRET: fakeHex(64) };
    const env = Object.entries(values)
      .map(([key, value]) => `${key}=${value}\n`)
      .join('');
    const deployment = makeDeployment({
      files: { '.env': env, '.env.backup': env },
      policy: {
        backup: { dir: 'backups', passphrase_env: 'SECRETS_BACKUP_PASSPHRASE', keep: '30d' },
        secrets: {
          'jwt-secret': random('JWT_SECRET'),
          'aes-key': random('AES_KEY'),
          'session-secret': random('SESSION_SECRET'),
        },
      },
    });
    return { deployment, values };
  }
  type Found = { check: string; message: string; path?: string };
  async function findings(root: string): Promise<{ json: Found[]; text: string; all: string }> {
    const json = await runSecrets(['--json', 'check'], { cwd: root });
    const text = await runSecrets(['check'], { cwd: root });
    return {
      json: (JSON.parse(json.stdout) as { findings: Found[] }).findings,
      text: text.stdout,
      all: json.stdout + json.stderr + text.stdout + text.stderr,
    };
  }

  it('a plaintext .env.backup (no git) is one finding naming every secret in it, not one revoke per value', async () => {
    const { deployment, values } = leakyDeployment();
    const found = await findings(deployment.root);
    const aboutBackup = found.json.filter((finding) => finding.message.includes('.env.backup'));
    expect(aboutBackup, JSON.stringify(found.json, null, 1)).toHaveLength(1);
    for (const id of ['jwt-secret', 'aes-key', 'session-secret']) expect(aboutBackup[0]!.message).toContain(id);
    expect(aboutBackup[0]!.message).not.toContain('revoke');
    expect(found.text.split('\n').filter((line) => line.includes('.env.backup'))).toHaveLength(1);
    for (const value of Object.values(values)) expect(found.all).not.toContain(value);
  });

  it('a value in a tracked file and in its history is one finding', async () => {
    const { deployment, values } = leakyDeployment();
    initRepo(deployment.root);
    const ignore = '.env\n.env.*\n.secrets/\n*.gpg\n.htpasswd\n';
    commitFiles(deployment.root, { '.gitignore': ignore, 'config.txt': `jwt=${values.JWT_SECRET}\n` }, 'config');
    commitFiles(deployment.root, { 'config.txt': `jwt=${values.JWT_SECRET}\nport=80\n` }, 'port');
    const found = await findings(deployment.root);
    const aboutConfig = found.json.filter((finding) => finding.message.includes('config.txt'));
    expect(aboutConfig, JSON.stringify(found.json, null, 1)).toHaveLength(1);
    expect(aboutConfig[0]!.message).toContain('jwt-secret');
    for (const value of Object.values(values)) expect(found.all).not.toContain(value);
  });
});

describeWithTools(['nginx', 'htpasswd'], 'row 4: init reads nginx; a rotation says when nothing proved it', () => {
  async function nginxSite(envExtra = '') {
    const password = `${fakeAlnum(20)}-${fakeAlnum(6)}`;
    const line = execFileSync('htpasswd', ['-nim', 'admin'], { input: `${password}\n`, encoding: 'utf8' }).trim();
    const root = tempDir('secrets-row4-');
    writeTree(root, {
      '.env': `SECRET_KEY=${fakeHex(64)}\n${envExtra}`,
      'nginx/.htpasswd': { content: `${line}\n`, mode: 0o640 },
    });
    const file = join(root, 'nginx/.htpasswd');
    const nginx = await startNginx({ userFile: file });
    grantWorkerRead(nginx, root, file);
    const env = { ...PASSPHRASE, SECRETS_NGINX_CONF: nginx.confPath };
    return { root, file, nginx, env, password };
  }

  it('init finds the Basic Auth file in nginx -T, proposes a probe from listen, and a reload this host can run', async () => {
    const site = await nginxSite();
    const init = await runSecrets(['init', '--yes', '--adopted-on', '2026-11-01'], { cwd: site.root, env: site.env });
    expect(init.code, init.stderr).toBeLessThan(3);
    const policy = readFileSync(join(site.root, 'secrets.yaml'), 'utf8');
    expect(policy).toContain('kind: htpasswd');
    expect(policy).toContain('file: nginx/.htpasswd');
    expect(policy).toContain('user: admin');
    expect(policy).toMatch(new RegExp(`^    probe: \\{ url: "http://127\\.0\\.0\\.1:${site.nginx.port}/"`, 'm'));
    const hooks = /^    after_change: (\[.*nginx.*\])$/m.exec(policy)?.[1];
    expect(hooks).toContain('nginx -s reload');
    if (!existsSync('/run/systemd/system')) expect(hooks).not.toContain('systemctl');

    // The policy init wrote works as written: the rotation is proven through this nginx.
    const newPassword = `${fakeAlnum(20)}-${fakeAlnum(6)}`;
    const rotate = await runSecrets(['rotate', 'dashboard-password', '--password-stdin', '--yes'], {
      cwd: site.root,
      env: site.env,
      input: `${newPassword}\n`,
    });
    expect(rotate.code, rotate.stderr).toBe(0);
    expect(rotate.stdout).toMatch(/probe http:\/\/127\.0\.0\.1:\d+\/: new password → 200/);
    expect(rotate.stderr).not.toContain('not verified');
    expect(await basicAuthStatus(site.nginx.url, { user: 'admin', password: newPassword })).toBe(200);
    expect(await basicAuthStatus(site.nginx.url, { user: 'admin', password: site.password })).toBe(401);
  });

  it('DASHBOARD_PUBLIC_URL is the probe when the .env has one', async () => {
    const site = await nginxSite();
    const url = `http://localhost:${site.nginx.port}/`;
    writeTree(site.root, { '.env': `SECRET_KEY=${fakeHex(64)}\nDASHBOARD_PUBLIC_URL=${url}\n` });
    const init = await runSecrets(['init', '--yes'], { cwd: site.root, env: site.env });
    expect(init.code, init.stderr).toBeLessThan(3);
    expect(readFileSync(join(site.root, 'secrets.yaml'), 'utf8')).toContain(`probe: { url: "${url}"`);
  });

  it('a rotation without a probe ends with "not verified through nginx"', async () => {
    const site = await nginxSite();
    const init = await runSecrets(['init', '--yes', '--adopted-on', '2026-11-01'], { cwd: site.root, env: site.env });
    expect(init.code, init.stderr).toBeLessThan(3);
    const policyPath = join(site.root, 'secrets.yaml');
    writeFileSync(policyPath, readFileSync(policyPath, 'utf8').replace(/^    probe: .*\n/m, ''));
    const rotate = await runSecrets(['rotate', 'dashboard-password', '--password-stdin', '--yes'], {
      cwd: site.root,
      env: site.env,
      input: `${fakeAlnum(20)}-${fakeAlnum(6)}\n`,
    });
    expect(rotate.code, rotate.stderr).toBe(0);
    expect(rotate.stderr.trim().split('\n').at(-1)).toContain('not verified through nginx');
  });
});

describe('row 12: one name for each thing across README, --help, init and the examples', () => {
  const repo = join(__dirname, '..', '..');
  const commands = ['init', 'check', 'backup', 'restore', 'rotate', 'revoke', 'record', 'log', 'notify', 'scan'];

  it('the dashboard password is dashboard-password and the backup passphrase SECRETS_BACKUP_PASSPHRASE everywhere', async () => {
    const helps = await Promise.all(commands.map((command) => runSecrets([command, '--help'])));
    const texts = [
      readFileSync(join(repo, 'README.md'), 'utf8'),
      ...helps.map((help) => help.stdout),
      ...['mt5-crs.yaml', 'trading-bot.yaml'].map((name) => readFileSync(join(repo, 'policies', name), 'utf8')),
    ];
    for (const text of texts) {
      expect(text).not.toMatch(/(?<!SECRETS_)BACKUP_PASSPHRASE/);
      expect(text).not.toMatch(/basic-auth-|secrets (rotate|revoke|record) dashboard\b(?!-)/);
    }
    expect(helps.find((_, index) => commands[index] === 'rotate')!.stdout).toContain('dashboard-password');
  });

  it('init names the htpasswd secret dashboard-password, as the README does', async () => {
    const root = tempDir('secrets-row12-');
    const line = execFileSync('htpasswd', ['-niB', '-C', '5', 'admin'], {
      input: `${fakeAlnum(24)}\n`,
      encoding: 'utf8',
    });
    writeTree(root, { '.env': `SECRET_KEY=${fakeHex(64)}\n`, '.htpasswd': line });
    const init = await runSecrets(['--json', 'init', '--htpasswd', '.htpasswd', '--yes'], { cwd: root });
    expect(init.code, init.stderr).toBeLessThan(3);
    expect((JSON.parse(init.stdout) as { secrets: string[] }).secrets).toContain('dashboard-password');
  });
});

describe('row 10: check --output', () => {
  function overdueDeployment(robotUrl: string, robotSecret: string) {
    return makeDeployment({
      files: {
        '.env': `DINGTALK_WEBHOOK_URL=${robotUrl}\nDINGTALK_SECRET=${robotSecret}\nJWT_SECRET=${fakeHex(64)}\n`,
      },
      policy: {
        backup: { dir: 'backups', passphrase_env: 'SECRETS_BACKUP_PASSPHRASE', keep: '30d' },
        secrets: {
          dingtalk: { kind: 'dingtalk', rotate_every: '90d' },
          'jwt-secret': { kind: 'random', env_key: 'JWT_SECRET', bytes: 32, encoding: 'hex', rotate_every: '90d' },
        },
        notify: { dingtalk: 'dingtalk' },
      },
    });
  }

  it('a missing folder is one line and exit 3, and the notification still goes out', async () => {
    const server = await startDingtalkServer();
    const robot = server.addRobot();
    const deployment = overdueDeployment(robot.url, robot.secret!);
    const target = deployment.path('missing/x.prom');
    const result = await runSecrets(['check', '--format', 'prometheus', '--output', target, '--notify'], {
      cwd: deployment.root,
    });
    expect(result.code).toBe(3);
    expect(result.stderr).not.toContain('unexpected');
    expect(result.stderr.trim().split('\n')).toHaveLength(1);
    expect(result.stderr).toContain(target);
    expect(server.accepted()).toHaveLength(1);
  });

  it('--output works with every format', async () => {
    const deployment = makeDeployment({ files: { '.env': `JWT_SECRET=${fakeHex(64)}\n` } });
    for (const format of ['text', 'json', 'prometheus']) {
      const target = deployment.path(`out.${format}`);
      const result = await runSecrets(['check', '--format', format, '--output', target], { cwd: deployment.root });
      expect(result.code, result.stderr).toBeLessThan(3);
      expect(result.stdout).toBe('');
      expect(readFileSync(target, 'utf8').length).toBeGreaterThan(0);
    }
    expect(JSON.parse(readFileSync(deployment.path('out.json'), 'utf8'))).toHaveProperty('status');
  });
});

describe('row 11: finding the policy, and an empty init', () => {
  it('a command in a subfolder uses the secrets.yaml of a parent folder and says which', async () => {
    const deployment = makeDeployment({
      files: { '.env': `JWT_SECRET=${fakeHex(64)}\n`, 'app/main.py': 'print(1)\n' },
    });
    const result = await runSecrets(['check'], { cwd: deployment.path('app') });
    expect(result.code, result.stderr).toBeLessThan(3);
    expect(result.stderr).toContain(`using the policy ${deployment.policyPath}`);
  });

  it('the search stops at the repository root', async () => {
    const outer = makeDeployment({ files: { 'repo/app/x.txt': 'x\n' } });
    initRepo(outer.path('repo'));
    const result = await runSecrets(['check'], { cwd: outer.path('repo/app') });
    expect(result.code).toBe(3);
    expect(result.stderr).toContain('no policy file here');
    expect(result.stderr).toContain(`the parent folders up to ${outer.path('repo')} have none`);
  });

  it('init in a folder with no .env refuses to write a policy with no secrets', async () => {
    const root = tempDir('secrets-row11-');
    const result = await runSecrets(['init', '--yes'], { cwd: root });
    expect(result.code).toBe(3);
    expect(result.stderr).toContain('nothing to manage');
    expect(existsSync(join(root, 'secrets.yaml'))).toBe(false);
  });
});

describe('row 14: record ID… --on DATE', () => {
  const manual = (key: string) => ({ kind: 'manual', env_key: key, rotate_every: '180d', steps: ['by hand'] });
  function manualDeployment() {
    return makeDeployment({
      files: { '.env': `POSTGRES_PASSWORD=${fakeAlnum(24)}\nWALLET_PRIVATE_KEY=${fakeHex(64)}\n` },
      policy: {
        backup: { dir: 'backups', passphrase_env: 'SECRETS_BACKUP_PASSPHRASE', keep: '30d' },
        secrets: {
          'postgres-password': manual('POSTGRES_PASSWORD'),
          'wallet-private-key': manual('WALLET_PRIVATE_KEY'),
        },
      },
    });
  }

  it('records every id on the date, and check counts from it', async () => {
    const deployment = manualDeployment();
    const result = await runSecrets(['record', 'postgres-password', 'wallet-private-key', '--on', '2026-10-01'], {
      cwd: deployment.root,
    });
    expect(result.code, result.stderr).toBe(0);
    expect(result.stdout).toContain('recorded: postgres-password rotated on 2026-10-01');
    expect(result.stdout).toContain('recorded: wallet-private-key rotated on 2026-10-01');
    const check = await runSecrets(['--json', 'check', '--as-of', '2026-11-01'], { cwd: deployment.root });
    const secrets = (JSON.parse(check.stdout) as { secrets: Array<{ id: string; lastRotated: string | null }> })
      .secrets;
    expect(secrets.map((secret) => secret.lastRotated?.slice(0, 10))).toEqual(['2026-10-01', '2026-10-01']);
  });

  it('one unknown id records nothing (exit 3)', async () => {
    const deployment = manualDeployment();
    const result = await runSecrets(['record', 'postgres-password', 'nope', '--on', '2026-10-01'], {
      cwd: deployment.root,
    });
    expect(result.code).toBe(3);
    expect(existsSync(deployment.path('.secrets/audit.jsonl'))).toBe(false);
  });
});

describe('row 13: a manual secret checks the provider shape and refuses an old value', () => {
  const b64url = (length: number) =>
    fakeAlnum(length, 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_');
  const anthropicKey = () => ['sk-ant-', 'api03-', b64url(93), 'AA'].join('');
  const openaiKey = () => ['sk-proj-', b64url(74), 'T3Blbk', 'FJ', b64url(74)].join('');
  const databaseUrl = () => `postgresql://app:${fakeAlnum(24)}@127.0.0.1:5432/app`;
  const manual = (key: string) => ({ kind: 'manual', env_key: key, rotate_every: '90d', steps: ['by hand'] });
  // The key name apart from the value: the repository's own scan reads KEY=${...} as an assignment.
  const ANTHROPIC = 'ANTHROPIC_API_KEY';

  function site() {
    const first = { ANTHROPIC_API_KEY: anthropicKey(), DATABASE_URL: databaseUrl() };
    const deployment = makeDeployment({
      files: { '.env': `ANTHROPIC_API_KEY=${first.ANTHROPIC_API_KEY}\nDATABASE_URL=${first.DATABASE_URL}\n` },
      policy: {
        backup: { dir: 'backups', passphrase_env: 'SECRETS_BACKUP_PASSPHRASE', keep: '30d' },
        secrets: { 'anthropic-api-key': manual('ANTHROPIC_API_KEY'), 'database-url': manual('DATABASE_URL') },
      },
    });
    const rotate = (id: string, input: string) =>
      runSecrets(['rotate', id, '--yes'], { cwd: deployment.root, env: PASSPHRASE, input });
    return { deployment, first, rotate };
  }

  it('an OpenAI key given as ANTHROPIC_API_KEY is refused; an Anthropic one is taken', async () => {
    const { deployment, rotate } = site();
    const before = readFileSync(deployment.path('.env'), 'utf8');
    const wrong = await rotate('anthropic-api-key', `${ANTHROPIC}=${openaiKey()}\n`);
    expect(wrong.code).toBe(3);
    expect(wrong.stderr).toContain('has the shape of an OpenAI key');
    expect(readFileSync(deployment.path('.env'), 'utf8')).toBe(before);
    const right = await rotate('anthropic-api-key', `${ANTHROPIC}=${anthropicKey()}\n`);
    expect(right.code, right.stderr).toBe(0);
  });

  it('an old DATABASE_URL brought back is refused', async () => {
    const { deployment, first, rotate } = site();
    const next = await rotate('database-url', `DATABASE_URL=${databaseUrl()}\n`);
    expect(next.code, next.stderr).toBe(0);
    const after = readFileSync(deployment.path('.env'), 'utf8');
    const back = await rotate('database-url', `DATABASE_URL=${first.DATABASE_URL}\n`);
    expect(back.code).toBe(3);
    expect(back.stderr).toContain('used before');
    expect(back.stdout + back.stderr).not.toContain(first.DATABASE_URL);
    expect(readFileSync(deployment.path('.env'), 'utf8')).toBe(after);
  });
});

describe('row 19: small things', () => {
  it('a rotation due today says "due today"', async () => {
    const deployment = makeDeployment({
      files: { '.env': `JWT_SECRET=${fakeHex(64)}\n` },
      policy: {
        secrets: {
          'jwt-secret': { kind: 'random', env_key: 'JWT_SECRET', bytes: 32, encoding: 'hex', rotate_every: '30d' },
        },
      },
    });
    await runSecrets(['record', 'jwt-secret', '--on', '2026-10-31T12:00:00Z'], { cwd: deployment.root });
    const today = await runSecrets(['check', '--as-of', '2026-11-30T08:00:00Z'], { cwd: deployment.root });
    expect(today.stdout).toContain('jwt-secret: rotation due today (2026-11-30)');
    // Less than 24 hours left, but the due day is tomorrow: neither "today" nor "in 0 days".
    const evening = await runSecrets(['check', '--as-of', '2026-11-29T20:00:00Z'], { cwd: deployment.root });
    expect(evening.stdout).toContain('jwt-secret: rotation due tomorrow (2026-11-30)');
    expect(today.stdout + evening.stdout).not.toContain('in 0 days');
  });

  it('init handles a .env key with a dot (FOO.BAR_SECRET), and rotation writes it', async () => {
    const root = tempDir('secrets-row19-');
    writeTree(root, { '.env': `FOO.BAR_SECRET=${fakeHex(64)}\n` });
    const init = await runSecrets(['--json', 'init', '--yes', '--adopted-on', '2026-11-01'], { cwd: root });
    expect(init.code, init.stderr).toBeLessThan(3);
    expect((JSON.parse(init.stdout) as { secrets: string[] }).secrets).toEqual(['foo-bar-secret']);
    const rotate = await runSecrets(['rotate', 'foo-bar-secret', '--yes'], { cwd: root, env: PASSPHRASE });
    expect(rotate.code, rotate.stderr).toBe(0);
    expect(readFileSync(join(root, '.env'), 'utf8')).toMatch(/^FOO\.BAR_SECRET=[0-9a-f]{64}\n$/);
  });

  it('revoking the alert robot alerts the team through the new robot once it is in place', async () => {
    const server = await startDingtalkServer();
    const [oldRobot, newRobot] = [server.addRobot(), server.addRobot()];
    const deployment = makeDeployment({
      files: { '.env': `DINGTALK_WEBHOOK_URL=${oldRobot.url}\nDINGTALK_SECRET=${oldRobot.secret}\n` },
      policy: {
        backup: { dir: 'backups', passphrase_env: 'SECRETS_BACKUP_PASSPHRASE', keep: '30d' },
        secrets: { dingtalk: { kind: 'dingtalk', rotate_every: '90d' } },
        notify: { dingtalk: 'dingtalk' },
      },
    });
    const result = await runSecrets(['revoke', 'dingtalk', '--reason', 'pasted in a chat', '--yes', '--no-scan'], {
      cwd: deployment.root,
      env: PASSPHRASE,
      input: `DINGTALK_WEBHOOK_URL=${newRobot.url}\nDINGTALK_SECRET=${newRobot.secret}\n`,
    });
    expect(result.code, result.stderr).toBe(0);
    expect(result.stdout).toContain('team alert sent through the new robot');
    const alerts = server.accepted().filter((message) => message.text.includes('secret revoked'));
    expect(alerts.map((message) => message.accessToken)).toEqual([newRobot.accessToken]);
  });
});

describe('row 17: init --adopted-on per secret, and a wallet key rotates yearly', () => {
  it('--adopted-on ID=DATE records that secret on its own date, the rest on the common one', async () => {
    const root = tempDir('secrets-row17-');
    writeTree(root, { '.env': `JWT_SECRET_KEY=${fakeHex(64)}\nWALLET_PRIVATE_KEY=${fakeHex(64)}\n` });
    const init = await runSecrets(
      ['--json', 'init', '--yes', '--adopted-on', '2026-11-01', '--adopted-on', 'wallet-private-key=2026-03-15'],
      { cwd: root },
    );
    expect(init.code, init.stderr).toBeLessThan(3);
    const check = await runSecrets(['--json', 'check'], { cwd: root });
    const secrets = (JSON.parse(check.stdout) as { secrets: Array<{ id: string; lastRotated: string }> }).secrets;
    expect(Object.fromEntries(secrets.map((secret) => [secret.id, secret.lastRotated.slice(0, 10)]))).toEqual({
      'jwt-secret-key': '2026-11-01',
      'wallet-private-key': '2026-03-15',
    });
    const policy = readFileSync(join(root, 'secrets.yaml'), 'utf8');
    expect(policy).toMatch(/wallet-private-key:[\s\S]*?rotate_every: 1y/);
    expect(policy).toMatch(/jwt-secret-key:[\s\S]*?rotate_every: 90d/);
  });

  it('an ID=DATE for a secret init did not find is exit 3, nothing written', async () => {
    const root = tempDir('secrets-row17-');
    writeTree(root, { '.env': `JWT_SECRET_KEY=${fakeHex(64)}\n` });
    const init = await runSecrets(['init', '--yes', '--adopted-on', 'nope=2026-03-15'], { cwd: root });
    expect(init.code).toBe(3);
    expect(init.stderr).toContain('no secret nope');
    expect(existsSync(join(root, 'secrets.yaml'))).toBe(false);
  });
});

describe('row 16: log is a summary by default', () => {
  it('one line per event that matters; --steps adds the steps; a revoked fingerprint is not "new"', async () => {
    const deployment = makeDeployment({
      files: { '.env': `JWT_SECRET=${fakeHex(64)}\n` },
      policy: {
        backup: { dir: 'backups', passphrase_env: 'SECRETS_BACKUP_PASSPHRASE', keep: '30d' },
        secrets: {
          'jwt-secret': { kind: 'random', env_key: 'JWT_SECRET', bytes: 32, encoding: 'hex', rotate_every: '90d' },
        },
      },
    });
    const cli = (args: string[]) => runSecrets(args, { cwd: deployment.root, env: PASSPHRASE });
    expect((await cli(['rotate', 'jwt-secret', '--yes'])).code).toBe(0);
    expect((await cli(['revoke', 'jwt-secret', '--reason', 'in a screenshot', '--yes', '--no-scan'])).code).toBe(0);

    const summary = await cli(['log']);
    expect(summary.code).toBe(0);
    expect(summary.stdout).not.toContain('rotate-step');
    expect(summary.stdout).not.toContain('revoke-step');
    const lines = summary.stdout.trim().split('\n');
    expect(lines.filter((line) => /  rotated  jwt-secret  new /.test(line))).toHaveLength(2);
    const revoked = lines.filter((line) => line.includes('  revoked  jwt-secret'));
    expect(revoked).toHaveLength(1);
    expect(revoked[0]).toMatch(/revoked hmac-sha256:/);
    expect(revoked[0]).not.toMatch(/new hmac/);
    expect(revoked[0]).toContain('reason: in a screenshot');

    const steps = await cli(['log', '--steps']);
    expect(steps.stdout).toContain('rotate-step');
    expect(steps.stdout.split('\n').length).toBeGreaterThan(lines.length + 5);
  });
});

describe('row 18: secrets dingtalk-server, to try a rotation by hand', () => {
  it('serves robots on 127.0.0.1, a rotation against it works, and Ctrl+C stops it (exit 0)', async () => {
    const dir = tempDir('secrets-row18-');
    const child = spawn(process.execPath, ['--', BIN, 'dingtalk-server', '--out', dir], {
      env: { ...process.env, NO_COLOR: '1' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString('utf8')));
    const exited = new Promise<number | null>((done) => child.on('close', (code) => done(code)));
    try {
      const deadline = Date.now() + 20_000;
      while (!stdout.includes('listening on') && Date.now() < deadline)
        await new Promise((done) => setTimeout(done, 50));
      expect(stdout).toMatch(/listening on http:\/\/127\.0\.0\.1:\d+ \(127\.0\.0\.1 only\)/);
      const robot1 = readFileSync(join(dir, 'robot-1.env'), 'utf8');
      const robot2 = readFileSync(join(dir, 'robot-2.env'), 'utf8');
      expect(statSync(join(dir, 'robot-2.env')).mode & 0o777).toBe(0o600);
      expect(robot1).toMatch(
        /^DINGTALK_WEBHOOK_URL=http:\/\/127\.0\.0\.1:\d+\/robot\/send\?access_token=[0-9a-f]{64}\n/,
      );
      // Credentials go to the files only, never to the terminal.
      for (const line of (robot1 + robot2).trim().split('\n')) expect(stdout).not.toContain(line.split('=')[1]);

      const deployment = makeDeployment({
        files: { '.env': robot1 },
        policy: {
          backup: { dir: 'backups', passphrase_env: 'SECRETS_BACKUP_PASSPHRASE', keep: '30d' },
          secrets: { dingtalk: { kind: 'dingtalk', rotate_every: '90d' } },
        },
      });
      const rotate = await runSecrets(['rotate', 'dingtalk', '--yes'], {
        cwd: deployment.root,
        env: PASSPHRASE,
        input: robot2,
      });
      expect(rotate.code, rotate.stderr).toBe(0);
      expect(readFileSync(deployment.path('.env'), 'utf8')).toBe(robot2);
      expect(stdout).toMatch(/robot-2: accepted/);
    } finally {
      child.kill('SIGINT');
    }
    expect(await exited).toBe(0);
    expect(stdout).toContain('stopped');
  });
});

describe('row 15: a hook shared by several secrets runs once, after all the swaps', () => {
  function twoKeys(hook: string) {
    const env = `JWT_SECRET=${fakeHex(64)}\nSESSION_SECRET=${fakeHex(64)}\nOTHER=1\n`;
    const random = (key: string) => ({
      kind: 'random',
      env_key: key,
      bytes: 32,
      encoding: 'hex',
      rotate_every: '90d',
      after_change: [hook],
    });
    return makeDeployment({
      files: { '.env': env },
      policy: {
        backup: { dir: 'backups', passphrase_env: 'SECRETS_BACKUP_PASSPHRASE', keep: '30d' },
        secrets: { 'jwt-secret': random('JWT_SECRET'), 'session-secret': random('SESSION_SECRET') },
      },
    });
  }
  const sha256 = (text: string) => createHash('sha256').update(text).digest('hex');

  it('two random keys restart the app once, and the restart sees both new values', async () => {
    const deployment = twoKeys('sha256sum .env | cut -d" " -f1 >> restarts.log');
    const result = await runSecrets(['rotate', '--yes'], { cwd: deployment.root, env: PASSPHRASE });
    expect(result.code, result.stderr).toBe(0);
    expect(result.stdout).toContain('rotated: jwt-secret, session-secret');
    const restarts = readFileSync(deployment.path('restarts.log'), 'utf8').trim().split('\n');
    expect(restarts).toEqual([sha256(readFileSync(deployment.path('.env'), 'utf8'))]);
    const log = await runSecrets(['--json', 'log'], { cwd: deployment.root });
    const rotated = (JSON.parse(log.stdout) as { entries: Array<{ action: string; secret?: string }> }).entries.filter(
      (entry) => entry.action === 'rotated',
    );
    expect(rotated.map((entry) => entry.secret)).toEqual(['jwt-secret', 'session-secret']);
  });

  it('when the shared hook fails, both are rolled back (exit 3, .env byte-identical)', async () => {
    const deployment = twoKeys('test ! -f fail-once || { rm fail-once; exit 1; }');
    writeTree(deployment.root, { 'fail-once': '' });
    const before = readFileSync(deployment.path('.env'), 'utf8');
    const result = await runSecrets(['rotate', '--yes'], { cwd: deployment.root, env: PASSPHRASE });
    expect(result.code).toBe(3);
    expect(result.stderr).toContain('jwt-secret, session-secret not rotated');
    expect(readFileSync(deployment.path('.env'), 'utf8')).toBe(before);
    expect(existsSync(deployment.path('.secrets/rotation/journal.json'))).toBe(false);
  });
});
