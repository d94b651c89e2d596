// zod/mini: the same validator as `zod` with a tree-shakable API. The policy is parsed on every
// `secrets check` (daily cron), and classic zod alone took longer to load than node itself.
import * as z from 'zod/mini';
import { parseDuration } from './duration.js';

const withDefault = <T extends z.ZodMiniType>(schema: T, value: z.output<T>) => z._default(schema, value as never);

/** A duration string such as 90d; the message names the expected shape. */
export const durationText = z.string().check(
  z.refine((text: string) => parseDuration(text) !== undefined, {
    error: 'expected a duration like 90d (units: s, min, h, d, w, m for months, y)',
  }),
);

/** An octal file mode written as a string, e.g. "600" or "0640". */
export const modeText = z
  .string()
  .check(z.regex(/^0?[0-7]{3}$/, { error: 'expected an octal file mode in quotes, like "600"' }));

const secretId = /^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/;
/** A process environment variable's name (the backup passphrases come from the environment). */
const envName = z
  .string()
  .check(z.regex(/^[A-Za-z_][A-Za-z0-9_]*$/, { error: 'expected an environment variable name like DINGTALK_SECRET' }));
/** A key in the .env file: dotenv, python-dotenv and docker also read dots and dashes (FOO.BAR_SECRET). */
const envKey = z
  .string()
  .check(z.regex(/^[A-Za-z_][A-Za-z0-9_.-]*$/, { error: 'expected a .env key like DINGTALK_SECRET' }));
const nonEmpty = z.string().check(z.minLength(1));
const intBetween = (min: number, max: number) => z.number().check(z.int(), z.minimum(min), z.maximum(max));

const probeSchema = z.strictObject({
  url: z.url({ error: 'expected an http(s) URL' }),
  expect_new: withDefault(intBetween(100, 599), 200),
  expect_old: withDefault(intBetween(100, 599), 401),
  timeout: withDefault(durationText, '5s'),
});

const deliverSchema = z.strictObject({
  recipients: z.array(nonEmpty).check(z.minLength(1, { error: 'expected at least one OpenPGP public key file' })),
  dir: nonEmpty,
});

/** Fields every secret kind shares. */
const commonFields = {
  description: z.optional(z.string()),
  rotate_every: durationText,
  warn_before: withDefault(durationText, '14d'),
  after_change: withDefault(z.array(nonEmpty), []),
  hook_timeout: withDefault(durationText, '60s'),
  /** Steps an operator follows by hand (manual kind, revoke instructions). */
  steps: withDefault(z.array(z.string()), []),
};

const htpasswdSecret = z.strictObject({
  kind: z.literal('htpasswd'),
  ...commonFields,
  file: nonEmpty,
  user: z
    .string()
    .check(z.minLength(1), z.regex(/^[^:\r\n]+$/, { error: 'expected a user name without ":" or line breaks' })),
  bcrypt_cost: withDefault(intBetween(4, 15), 8),
  length: withDefault(intBetween(16, 128), 24),
  mode: withDefault(modeText, '640'),
  /** Create the htpasswd file when it does not exist (otherwise a missing file is an error). */
  create: withDefault(z.boolean(), false),
  probe: z.optional(probeSchema),
  deliver: z.optional(deliverSchema),
});

const dingtalkSecret = z.strictObject({
  kind: z.literal('dingtalk'),
  ...commonFields,
  url_key: withDefault(envKey, 'DINGTALK_WEBHOOK_URL'),
  /** Null for robots secured by keywords only. */
  secret_key: withDefault(z.nullable(envKey), 'DINGTALK_SECRET'),
  keywords: withDefault(z.array(nonEmpty), []),
  timeout: withDefault(durationText, '5s'),
  /** Send a confirmation message through the new pair after the swap. */
  confirm: withDefault(z.boolean(), true),
});

const randomSecret = z.strictObject({
  kind: z.literal('random'),
  ...commonFields,
  env_key: envKey,
  bytes: withDefault(intBetween(16, 512), 32),
  encoding: withDefault(z.enum(['hex', 'base64', 'base64url', 'alphanumeric']), 'hex'),
  /** Shortest acceptable value (the format check); default: what bytes+encoding produce. */
  min_length: z.optional(z.number().check(z.int(), z.minimum(1))),
});

const manualSecret = z.strictObject({
  kind: z.literal('manual'),
  ...commonFields,
  env_key: z.optional(envKey),
  min_length: z.optional(z.number().check(z.int(), z.minimum(1))),
});

export const secretSchema = z.discriminatedUnion('kind', [htpasswdSecret, dingtalkSecret, randomSecret, manualSecret], {
  error: 'expected one of htpasswd, dingtalk, random, manual',
});

const backupSchema = z.strictObject({
  dir: withDefault(nonEmpty, 'backups'),
  files: z.optional(z.array(nonEmpty)),
  recipients: withDefault(z.array(nonEmpty), []),
  passphrase_env: z.optional(envName),
  /** Environment variable holding the passphrase of the private key used by `restore --key`. */
  key_passphrase_env: z.optional(envName),
  keep: withDefault(durationText, '30d'),
});

const complianceSchema = z.strictObject({
  modes: withDefault(z.record(nonEmpty, modeText), {}),
  gitignore: withDefault(z.array(nonEmpty), []),
  placeholders: withDefault(z.array(nonEmpty), []),
});

const notifySchema = z.strictObject({
  dingtalk: z.optional(z.string().check(z.regex(secretId))),
  dashboard_url_key: z.optional(envKey),
});

const scanSchema = z.strictObject({
  /** Paths (globs) the scanner never reports, relative to the root. */
  ignore_paths: withDefault(z.array(nonEmpty), []),
  max_file_size: withDefault(z.number().check(z.int(), z.positive()), 10 * 1024 * 1024),
});

export const policySchema = z
  .strictObject({
    version: z.literal(1, { error: 'expected version: 1' }),
    deployment: z
      .string()
      .check(z.regex(/^[A-Za-z0-9][A-Za-z0-9._-]*$/, { error: 'expected a short name like mt5-crs' })),
    root: withDefault(nonEmpty, '.'),
    env_file: withDefault(nonEmpty, '.env'),
    state_dir: z.optional(nonEmpty),
    secrets: z.record(
      z.string().check(z.regex(secretId, { error: 'expected a secret id of letters, digits, ".", "_" or "-"' })),
      secretSchema,
    ),
    backup: withDefault(backupSchema, { dir: 'backups', recipients: [], keep: '30d' }),
    compliance: withDefault(complianceSchema, { modes: {}, gitignore: [], placeholders: [] }),
    notify: withDefault(notifySchema, {}),
    scan: withDefault(scanSchema, { ignore_paths: [], max_file_size: 10 * 1024 * 1024 }),
  })
  .check(
    z.superRefine((policy, ctx) => {
      const ids = Object.keys(policy.secrets);
      if (policy.notify.dingtalk !== undefined) {
        const target = policy.secrets[policy.notify.dingtalk];
        if (!target || target.kind !== 'dingtalk') {
          ctx.addIssue({
            code: 'custom',
            path: ['notify', 'dingtalk'],
            message: `expected the id of a dingtalk secret (${ids.join(', ') || 'none defined'})`,
          });
        }
      }
      const envKeys = new Map<string, string>();
      for (const [id, secret] of Object.entries(policy.secrets)) {
        const keys =
          secret.kind === 'dingtalk'
            ? [secret.url_key, secret.secret_key]
            : secret.kind === 'htpasswd'
              ? []
              : [secret.env_key];
        for (const key of keys) {
          if (!key) continue;
          const owner = envKeys.get(key);
          if (owner)
            ctx.addIssue({
              code: 'custom',
              path: ['secrets', id],
              message: `env key ${key} is already managed by ${owner}`,
            });
          envKeys.set(key, id);
        }
      }
    }),
  );

export type PolicyDocument = z.output<typeof policySchema>;
export type SecretSpec = PolicyDocument['secrets'][string];
export type SecretKind = SecretSpec['kind'];
export type HtpasswdSpec = Extract<SecretSpec, { kind: 'htpasswd' }>;
export type DingtalkSpec = Extract<SecretSpec, { kind: 'dingtalk' }>;
export type RandomSpec = Extract<SecretSpec, { kind: 'random' }>;
export type ManualSpec = Extract<SecretSpec, { kind: 'manual' }>;
