import { appendFileSync, writeFileSync } from 'node:fs';
import bcrypt from 'bcryptjs';
import * as openpgp from 'openpgp';
import { stringify } from 'yaml';
import { appendAudit } from '../../src/services/state/audit-trail.js';
import type { Policy } from '../../src/core/policy.js';
import { parsePolicy } from '../../src/kinds/index.js';
import { fakeAlnum, fakeDingtalkSecret, fakeDingtalkUrl, fakeHex } from './fake-secrets.js';
import { commitFiles, initRepo } from './git-repo.js';
import { makeDeployment, type TempDeployment } from './deployment.js';
import { testDeps } from './deps.js';

export const CLEAN_POLICY = {
  version: 1,
  deployment: 'mt5-test',
  root: '.',
  env_file: '.env',
  secrets: {
    'dashboard-password': {
      kind: 'htpasswd',
      file: 'nginx/.htpasswd',
      user: 'admin',
      bcrypt_cost: 5,
      rotate_every: '90d',
      warn_before: '14d',
    },
    dingtalk: { kind: 'dingtalk', rotate_every: '90d' },
    'jwt-secret': { kind: 'random', env_key: 'JWT_SECRET_KEY', bytes: 32, encoding: 'hex', rotate_every: '90d' },
  },
  backup: { dir: 'backups', passphrase_env: 'SECRETS_BACKUP_PASSPHRASE', keep: '30d' },
  compliance: {
    modes: { '.env': '600', 'nginx/.htpasswd': '640' },
    gitignore: ['.env', '.env.*', '.htpasswd', '*.gpg'],
    placeholders: ['YOUR_TOKEN_HERE', 'change-in-production'],
  },
};

export interface CleanDeployment extends TempDeployment {
  policy: Policy;
  values: { url: string; secret: string; jwt: string; password: string };
}

/**
 * A deployment on which `secrets check` has nothing to say: right modes, a git repository
 * that ignores the secret files, valid values, a fresh encrypted backup and recorded rotations
 * (on 2026-11-01, checked "now" at 2026-11-24).
 */
export async function makeCleanDeployment(policyOverrides: Record<string, unknown> = {}): Promise<CleanDeployment> {
  const values = { url: fakeDingtalkUrl(), secret: fakeDingtalkSecret(), jwt: fakeHex(64), password: fakeAlnum(24) };
  const htpasswdLine = `admin:${bcrypt.hashSync(values.password, 5).replace(/^\$2b\$/, '$2y$')}\n`;
  const deployment = makeDeployment({
    files: {
      '.env': {
        content: `# app settings\nAPP_ENV=production\nDINGTALK_WEBHOOK_URL=${values.url}\nDINGTALK_SECRET=${values.secret}\nJWT_SECRET_KEY=${values.jwt}\n`,
        mode: 0o600,
      },
      'nginx/.htpasswd': { content: htpasswdLine, mode: 0o640 },
      '.gitignore': { content: '.env\n.env.*\n.htpasswd\n*.gpg\n.secrets/\n', mode: 0o644 },
      'app.py': { content: 'print("hello")\n', mode: 0o644 },
    },
    policy: { ...CLEAN_POLICY, ...policyOverrides },
  });
  initRepo(deployment.root);
  commitFiles(deployment.root, {}, 'initial');
  const message = await openpgp.encrypt({
    message: await openpgp.createMessage({ text: 'backup' }),
    passwords: ['test-passphrase'],
    config: { aeadProtect: false },
  });
  (await import('node:fs')).mkdirSync(deployment.path('backups'), { recursive: true });
  writeFileSync(deployment.path('backups/mt5-test-20261120T000000Z.tar.gpg'), message, { mode: 0o600 });
  const policy = parsePolicy(
    await import('node:fs').then((fs) => fs.readFileSync(deployment.policyPath, 'utf8')),
    deployment.policyPath,
  );
  const deps = testDeps({ now: new Date('2026-11-01T00:00:00Z') });
  for (const { id } of policy.secrets)
    await appendAudit(policy.stateDir, { action: 'rotated', secret: id, fingerprint: 'hmac-sha256:test' }, deps);
  return { ...deployment, policy, values };
}

export function appendText(path: string, text: string): void {
  appendFileSync(path, text);
}

export { stringify as toYaml };
