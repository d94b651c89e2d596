import { stringify } from 'yaml';
import type { SecretProposal } from '../core/env-classifier.js';
import { scalar } from './draft-yaml.js';
import { kindNamed } from './index.js';

/** Everything `secrets init` decided, before it becomes YAML. Paths are as the policy will hold them. */
export interface PolicyDraft {
  deployment: string;
  /** The deployment root relative to the policy's folder ("." when they are the same), or absolute. */
  root: string;
  envFile: string;
  secrets: SecretProposal[];
  /** hooks: nginx's test and reload for this host; probe: a URL nginx guards with the file. */
  htpasswd?: { id: string; file: string; user: string; hooks?: string[]; probe?: string };
  rotateEvery: string;
  backup: { recipients: string[]; passphraseEnv?: string };
  /** The id of the DingTalk secret whose robot receives alerts. */
  notifyDingtalk?: string;
  dashboardUrlKey?: string;
  /** Written into the header so a reader knows where the file came from. */
  createdOn: string;
}

// .secrets/ is the default state folder: it holds the fingerprint key and the journal's copies.
export const DEFAULT_GITIGNORE = ['.env', '.env.*', '.htpasswd', '*.gpg', '.secrets/'];
export const DEFAULT_PLACEHOLDERS = [
  'YOUR_ACTUAL_TOKEN',
  'PASTE_YOUR_TOKEN_HERE',
  'YOUR_TOKEN_HERE',
  'change-in-production',
  'changeme',
];
export const DEFAULT_BACKUP_PASSPHRASE_ENV = 'SECRETS_BACKUP_PASSPHRASE';

/** A one-line list; the flow style quotes what a flow list needs quoted (commas, brackets). */
function flowList(values: string[]): string {
  return stringify(values, { collectionStyle: 'flow', lineWidth: 0 }).trimEnd();
}

function secretLines(secret: SecretProposal, rotateEvery: string): string[] {
  const draft = kindNamed(secret.kind).draft as ((proposal: SecretProposal, every: string) => string[]) | undefined;
  return [
    `  ${secret.id}:`,
    `    # ${secret.reason}`,
    `    kind: ${secret.kind}`,
    ...(draft?.(secret, rotateEvery) ?? []),
  ];
}

/**
 * The policy as commented YAML, in the order and style of policies/mt5-crs.yaml, so that the
 * file `init` writes also teaches its reader the format. Pure: the caller validates and writes it.
 */
export function renderPolicyYaml(draft: PolicyDraft): string {
  const lines: string[] = [
    `# Policy for ${draft.deployment}, written by \`secrets init\` on ${draft.createdOn}.`,
    '# Review it, then commit it: it holds key names and rules, never a secret value.',
    '# Durations: 12h, 30d, 2w, 6m (months), 1y. Relative paths resolve against root.',
    'version: 1',
    `deployment: ${scalar(draft.deployment)}`,
    `root: ${scalar(draft.root)}${draft.root === '.' ? '                         # the folder of this file' : ''}`,
    `env_file: ${scalar(draft.envFile)}`,
    '# state_dir: .secrets          # audit trail, journal and lock (default: .secrets beside this file; git-ignore it)',
    '',
    '# Each secret: how it rotates (kind), where it lives, how often, and what to run after a change.',
    '# kind random: the tool generates the next value; dingtalk: you paste the pair DingTalk issues and',
    '# the tool test-sends before swapping; htpasswd: a generated password for nginx Basic Auth;',
    '# manual: rotated elsewhere, the tool tracks its deadline and prints the steps.',
  ];
  const secrets = [...draft.secrets];
  if (secrets.length === 0 && !draft.htpasswd) {
    lines.push('secrets: {}                     # none recognised: add them by hand (see policies/*.yaml)');
  } else {
    lines.push('secrets:');
    if (draft.htpasswd) {
      lines.push(
        `  ${draft.htpasswd.id}:`,
        '    # the Basic Auth password nginx checks',
        '    kind: htpasswd',
        `    file: ${scalar(draft.htpasswd.file)}`,
        `    user: ${scalar(draft.htpasswd.user)}`,
        '    bcrypt_cost: 8              # nginx re-hashes on every request: keep it low',
        '    mode: "640"',
        `    rotate_every: ${scalar(draft.rotateEvery)}`,
        '    warn_before: 14d',
        `    after_change: ${flowList(draft.htpasswd.hooks ?? ['nginx -t', 'systemctl reload nginx'])}`,
        draft.htpasswd.probe
          ? `    probe: { url: ${JSON.stringify(draft.htpasswd.probe)}, expect_new: 200, expect_old: 401 }   # proves nginx took the new password`
          : '    # probe: { url: "http://127.0.0.1/", expect_new: 200, expect_old: 401 }   # set it: without one nothing proves nginx took the change',
      );
    }
    for (const secret of secrets) lines.push(...secretLines(secret, draft.rotateEvery));
  }

  lines.push('', '# Encrypted copies of the secret files, made before every change and by `secrets backup`.');
  lines.push('backup:', '  dir: backups');
  lines.push(
    `  recipients: ${flowList(draft.backup.recipients)}${draft.backup.recipients.length === 0 ? '                # OpenPGP public key files, and/or a passphrase:' : ''}`,
  );
  if (draft.backup.passphraseEnv)
    lines.push(
      `  passphrase_env: ${scalar(draft.backup.passphraseEnv)}   # the variable's name; the passphrase itself never goes in a file`,
    );
  lines.push('  keep: 30d                     # check warns when the newest backup is older');

  const envFile = draft.envFile;
  const modes: Record<string, string> = { [envFile]: '600' };
  if (draft.htpasswd) modes[draft.htpasswd.file] = '640';
  lines.push('', '# What `secrets check` enforces besides deadlines.');
  lines.push('compliance:');
  lines.push(
    `  modes: ${stringify(modes, { collectionStyle: 'flow', lineWidth: 0 }).trimEnd()}   # secret files no looser than this`,
  );
  lines.push(`  gitignore: ${flowList(DEFAULT_GITIGNORE)}   # lines .gitignore must hold`);
  lines.push(`  placeholders: ${flowList(DEFAULT_PLACEHOLDERS)}   # a managed value containing one is critical`);

  if (draft.notifyDingtalk || draft.dashboardUrlKey) {
    lines.push('', '# Where alerts go.');
    lines.push('notify:');
    if (draft.notifyDingtalk)
      lines.push(`  dingtalk: ${scalar(draft.notifyDingtalk)}            # the secret id whose robot receives alerts`);
    if (draft.dashboardUrlKey) lines.push(`  dashboard_url_key: ${scalar(draft.dashboardUrlKey)}`);
  }
  return `${lines.join('\n')}\n`;
}
