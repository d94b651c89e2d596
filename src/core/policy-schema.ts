import { z } from 'zod';
import { parseDuration } from './duration.js';

/** A duration string such as 90d; the message names the expected shape. */
export const durationText = z.string().refine((text) => parseDuration(text) !== undefined, {
  message: 'expected a duration like 90d (units: s, min, h, d, w, m for months, y)',
});

/** An octal file mode written as a string, e.g. "600" or "0640". */
export const modeText = z
  .string()
  .regex(/^0?[0-7]{3}$/, { message: 'expected an octal file mode in quotes, like "600"' });

const secretId = /^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/;
const envKey = z.string().regex(/^[A-Za-z_][A-Za-z0-9_]*$/, { message: 'expected an environment variable name like DINGTALK_SECRET' });

const probeSchema = z.strictObject({
  url: z.url({ message: 'expected an http(s) URL' }),
  expect_new: z.number().int().min(100).max(599).default(200),
  expect_old: z.number().int().min(100).max(599).default(401),
  timeout: durationText.default('5s'),
});

const deliverSchema = z.strictObject({
  recipients: z.array(z.string().min(1)).min(1, { message: 'expected at least one OpenPGP public key file' }),
  dir: z.string().min(1),
});

/** Fields every secret kind shares. */
const commonFields = {
  description: z.string().optional(),
  rotate_every: durationText,
  warn_before: durationText.default('14d'),
  after_change: z.array(z.string().min(1)).default([]),
  hook_timeout: durationText.default('60s'),
  /** Steps an operator follows by hand (manual kind, revoke instructions). */
  steps: z.array(z.string()).default([]),
};

const htpasswdSecret = z.strictObject({
  kind: z.literal('htpasswd'),
  ...commonFields,
  file: z.string().min(1),
  user: z.string().min(1).regex(/^[^:\r\n]+$/, { message: 'expected a user name without ":" or line breaks' }),
  bcrypt_cost: z.number().int().min(4).max(15).default(8),
  length: z.number().int().min(16).max(128).default(24),
  mode: modeText.default('640'),
  /** Create the htpasswd file when it does not exist (otherwise a missing file is an error). */
  create: z.boolean().default(false),
  probe: probeSchema.optional(),
  deliver: deliverSchema.optional(),
});

const dingtalkSecret = z.strictObject({
  kind: z.literal('dingtalk'),
  ...commonFields,
  url_key: envKey.default('DINGTALK_WEBHOOK_URL'),
  /** Null for robots secured by keywords only. */
  secret_key: envKey.nullable().default('DINGTALK_SECRET'),
  keywords: z.array(z.string().min(1)).default([]),
  timeout: durationText.default('5s'),
  /** Send a confirmation message through the new pair after the swap. */
  confirm: z.boolean().default(true),
});

const randomSecret = z.strictObject({
  kind: z.literal('random'),
  ...commonFields,
  env_key: envKey,
  bytes: z.number().int().min(16).max(512).default(32),
  encoding: z.enum(['hex', 'base64', 'base64url', 'alphanumeric']).default('hex'),
  /** Shortest acceptable value (the format check); default: what bytes+encoding produce. */
  min_length: z.number().int().min(1).optional(),
});

const manualSecret = z.strictObject({
  kind: z.literal('manual'),
  ...commonFields,
  env_key: envKey.optional(),
  min_length: z.number().int().min(1).optional(),
});

export const secretSchema = z.discriminatedUnion('kind', [htpasswdSecret, dingtalkSecret, randomSecret, manualSecret], {
  message: 'expected one of htpasswd, dingtalk, random, manual',
});

const backupSchema = z.strictObject({
  dir: z.string().min(1).default('backups'),
  files: z.array(z.string().min(1)).optional(),
  recipients: z.array(z.string().min(1)).default([]),
  passphrase_env: envKey.optional(),
  /** Environment variable holding the passphrase of the private key used by `restore --key`. */
  key_passphrase_env: envKey.optional(),
  keep: durationText.default('30d'),
});

const complianceSchema = z.strictObject({
  modes: z.record(z.string().min(1), modeText).default({}),
  gitignore: z.array(z.string().min(1)).default([]),
  placeholders: z.array(z.string().min(1)).default([]),
});

const notifySchema = z.strictObject({
  dingtalk: z.string().regex(secretId).optional(),
  dashboard_url_key: envKey.optional(),
});

const scanSchema = z.strictObject({
  /** Paths (globs) the scanner never reports, relative to the root. */
  ignore_paths: z.array(z.string().min(1)).default([]),
  max_file_size: z.number().int().positive().default(10 * 1024 * 1024),
});

export const policySchema = z
  .strictObject({
    version: z.literal(1, { message: 'expected version: 1' }),
    deployment: z.string().regex(/^[A-Za-z0-9][A-Za-z0-9._-]*$/, { message: 'expected a short name like mt5-crs' }),
    root: z.string().min(1).default('.'),
    env_file: z.string().min(1).default('.env'),
    state_dir: z.string().min(1).optional(),
    secrets: z.record(z.string().regex(secretId, { message: 'expected a secret id of letters, digits, ".", "_" or "-"' }), secretSchema),
    backup: backupSchema.default({ dir: 'backups', recipients: [], keep: '30d' }),
    compliance: complianceSchema.default({ modes: {}, gitignore: [], placeholders: [] }),
    notify: notifySchema.default({}),
    scan: scanSchema.default({ ignore_paths: [], max_file_size: 10 * 1024 * 1024 }),
  })
  .superRefine((policy, ctx) => {
    const ids = Object.keys(policy.secrets);
    if (policy.notify.dingtalk !== undefined) {
      const target = policy.secrets[policy.notify.dingtalk];
      if (!target || target.kind !== 'dingtalk') {
        ctx.addIssue({ code: 'custom', path: ['notify', 'dingtalk'], message: `expected the id of a dingtalk secret (${ids.join(', ') || 'none defined'})` });
      }
    }
    const envKeys = new Map<string, string>();
    for (const [id, secret] of Object.entries(policy.secrets)) {
      const keys = secret.kind === 'dingtalk' ? [secret.url_key, secret.secret_key] : secret.kind === 'htpasswd' ? [] : [secret.env_key];
      for (const key of keys) {
        if (!key) continue;
        const owner = envKeys.get(key);
        if (owner) ctx.addIssue({ code: 'custom', path: ['secrets', id], message: `env key ${key} is already managed by ${owner}` });
        envKeys.set(key, id);
      }
    }
  });

export type PolicyDocument = z.output<typeof policySchema>;
export type SecretSpec = PolicyDocument['secrets'][string];
export type SecretKind = SecretSpec['kind'];
export type HtpasswdSpec = Extract<SecretSpec, { kind: 'htpasswd' }>;
export type DingtalkSpec = Extract<SecretSpec, { kind: 'dingtalk' }>;
export type RandomSpec = Extract<SecretSpec, { kind: 'random' }>;
export type ManualSpec = Extract<SecretSpec, { kind: 'manual' }>;
