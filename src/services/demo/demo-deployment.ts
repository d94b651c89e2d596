import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import { stringify } from 'yaml';
import { bcryptHash } from '../../core/bcrypt.js';
import { SecretsError } from '../../core/errors.js';
import type { FileStore, ProcessRunner } from '../../core/ports.js';
import { Secret } from '../../core/secret.js';

/** A DingTalk robot of the local server: its webhook URL and signing secret. */
export interface DemoRobot {
  url: string;
  accessToken: string;
  secret: string | undefined;
}

/** What `secrets demo` needs from the local DingTalk-compatible server (src/adapters/dingtalk-local-server.ts). */
export interface DemoRobotServer {
  baseUrl: string;
  addRobot(): DemoRobot;
  accepted(): Array<{ accessToken: string; text: string }>;
}

/** The throwaway deployment, with every value the demo generated (to check the steps and to mask). */
export interface DemoDeployment {
  root: string;
  /** HOME, GNUPGHOME and TMPDIR of the demo's own runs: nothing they write lands outside the workspace. */
  home: string;
  tmp: string;
  /** The environment of every `secrets` run of the demo (the backup passphrase travels here, never in argv). */
  env: Record<string, string>;
  oldRobot: DemoRobot;
  newRobot: DemoRobot;
  /** The plaintext copy of .env someone left behind (`cp .env .env.backup.$(date +%s)`). */
  plaintextBackup: string;
  /** The file of the commit that leaked the app's SECRET_KEY. */
  leakedFile: string;
  /** Every raw value the demo made: none may ever appear in what it prints. */
  rawValues: string[];
}

const HTPASSWD_DEMO_COST = 4; // the lowest bcrypt cost: the demo must be quick, and this password is thrown away
const GIT_IDENTITY = {
  GIT_AUTHOR_NAME: 'Demo Dev',
  GIT_AUTHOR_EMAIL: 'dev@mt5-crs.invalid',
  GIT_COMMITTER_NAME: 'Demo Dev',
  GIT_COMMITTER_EMAIL: 'dev@mt5-crs.invalid',
};

const hex = (bytes: number) => randomBytes(bytes).toString('hex');

/** The policy the demo writes: MT5-CRS's shape, with the local robot server and a passphrase from the environment. */
function demoPolicy(): Record<string, unknown> {
  return {
    version: 1,
    deployment: 'mt5-crs-demo',
    root: '.',
    env_file: '.env',
    secrets: {
      dingtalk: {
        kind: 'dingtalk',
        description: 'the robot that posts risk alerts',
        rotate_every: '90d',
        timeout: '5s',
        steps: ['DingTalk group → Settings → Smart Group Assistant → the robot → Reset webhook and secret'],
      },
      'jwt-secret': {
        kind: 'random',
        description: 'signs the API tokens',
        env_key: 'JWT_SECRET_KEY',
        bytes: 32,
        rotate_every: '90d',
      },
      'app-secret-key': {
        kind: 'random',
        description: "the dashboard's session key",
        env_key: 'SECRET_KEY',
        bytes: 32,
        rotate_every: '90d',
      },
      'dashboard-password': {
        kind: 'htpasswd',
        description: 'nginx Basic Auth in front of the dashboard',
        file: '.htpasswd',
        user: 'admin',
        bcrypt_cost: HTPASSWD_DEMO_COST,
        mode: '640',
        rotate_every: '90d',
      },
    },
    backup: { dir: 'backups', passphrase_env: 'SECRETS_BACKUP_PASSPHRASE', keep: '30d' },
    compliance: {
      modes: { '.env': '600', '.htpasswd': '640' },
      gitignore: ['.env', '.env.*', '.htpasswd', '*.gpg'],
      placeholders: ['YOUR_ACTUAL_TOKEN', 'change-in-production'],
    },
    notify: { dingtalk: 'dingtalk', dashboard_url_key: 'DASHBOARD_PUBLIC_URL' },
  };
}

async function git(runner: ProcessRunner, root: string, env: Record<string, string>, command: string): Promise<void> {
  const result = await runner.run(`git ${command}`, { cwd: root, timeoutMs: 30_000, env: { ...env, ...GIT_IDENTITY } });
  if (result.code !== 0)
    throw new SecretsError(
      'demo-setup',
      `could not build the demo's git history: git ${command.split(' ')[0]}: ${result.stderr.trim().split('\n')[0] ?? ''}`,
    );
}

/**
 * Writes an MT5-CRS-like deployment under `workspace`: .env, .htpasswd, a policy, a plaintext
 * .env copy, and a git history whose second commit leaked SECRET_KEY and whose third removed it.
 * Every value is generated now, so nothing secret-shaped is ever committed to this repository.
 */
export async function buildDemoDeployment(
  workspace: string,
  server: DemoRobotServer,
  deps: { files: FileStore; runner: ProcessRunner; now: Date; path: string },
): Promise<DemoDeployment> {
  const root = join(workspace, 'mt5-crs');
  const home = join(workspace, 'home');
  const tmp = join(workspace, 'tmp');
  for (const dir of [root, home, tmp, join(root, 'app')]) await deps.files.ensureDir(dir, 0o700);

  const oldRobot = server.addRobot();
  const newRobot = server.addRobot();
  const jwtSecret = hex(32);
  const appSecretKey = hex(32);
  const dashboardPassword = hex(12);
  const passphrase = hex(16);

  const envText = [
    '# MT5-CRS risk dashboard',
    `DINGTALK_WEBHOOK_URL=${oldRobot.url}`,
    `DINGTALK_SECRET=${oldRobot.secret ?? ''}`,
    `JWT_SECRET_KEY=${jwtSecret}`,
    `SECRET_KEY=${appSecretKey}`,
    'DASHBOARD_PUBLIC_URL=https://dashboard.mt5-crs.invalid/',
    '',
  ].join('\n');
  const plaintextBackup = `.env.backup.${Math.floor(deps.now.getTime() / 1000) - 86_400 * 40}`;
  await deps.files.writeAtomic(join(root, '.env'), envText, { mode: 0o600 });
  await deps.files.writeAtomic(join(root, plaintextBackup), envText, { mode: 0o600 });
  await deps.files.writeAtomic(
    join(root, '.htpasswd'),
    `admin:${await bcryptHash(new Secret(dashboardPassword), HTPASSWD_DEMO_COST)}\n`,
    { mode: 0o640 },
  );
  await deps.files.writeAtomic(
    join(root, 'secrets.yaml'),
    `# Written by secrets demo: a policy for a throwaway MT5-CRS-like deployment.\n${stringify(demoPolicy())}`,
    { mode: 0o644 },
  );

  const env: Record<string, string> = {
    PATH: deps.path,
    HOME: home,
    GNUPGHOME: join(home, '.gnupg'),
    TMPDIR: tmp,
    // Nobody's git configuration (signing, hooks, templates) reaches the demo's repository.
    GIT_CONFIG_GLOBAL: '/dev/null',
    GIT_CONFIG_NOSYSTEM: '1',
    SECRETS_BACKUP_PASSPHRASE: passphrase,
  };

  // The history: a first commit, one that leaked SECRET_KEY into settings.py, one that "fixed" it.
  const leakedFile = 'app/settings.py';
  await deps.files.writeAtomic(
    join(root, '.gitignore'),
    ['.env', '.env.*', '.htpasswd', '*.gpg', 'backups/', '.secrets/', ''].join('\n'),
    { mode: 0o644 },
  );
  await deps.files.writeAtomic(
    join(root, 'app/dashboard.py'),
    'import streamlit as st\n\nst.title("MT5-CRS risk dashboard")\n',
    { mode: 0o644 },
  );
  await git(deps.runner, root, env, 'init -q -b main');
  await git(deps.runner, root, env, 'add .gitignore app/dashboard.py secrets.yaml');
  await git(deps.runner, root, env, 'commit -q -m "Risk dashboard and its secrets policy"');
  await deps.files.writeAtomic(
    join(root, leakedFile),
    `# Flask-style settings\nDEBUG = False\nSECRET_KEY = "${appSecretKey}"\n`,
    { mode: 0o644 },
  );
  await git(deps.runner, root, env, `add ${leakedFile}`);
  await git(deps.runner, root, env, 'commit -q -m "Settings for the session cookie"');
  await deps.files.writeAtomic(
    join(root, leakedFile),
    '# Flask-style settings\nimport os\n\nDEBUG = False\nSECRET_KEY = os.environ["SECRET_KEY"]\n',
    { mode: 0o644 },
  );
  await git(deps.runner, root, env, `commit -q -am "Read SECRET_KEY from the environment"`);

  return {
    root,
    home,
    tmp,
    env,
    oldRobot,
    newRobot,
    plaintextBackup,
    leakedFile,
    rawValues: [
      oldRobot.secret ?? '',
      oldRobot.accessToken,
      newRobot.secret ?? '',
      newRobot.accessToken,
      jwtSecret,
      appSecretKey,
      dashboardPassword,
      passphrase,
    ].filter((value) => value !== ''),
  };
}
