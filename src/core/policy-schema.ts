// zod/mini: the same validator as `zod` with a tree-shakable API. The policy is parsed on every
// `secrets check` (daily cron), and classic zod alone took longer to load than node itself.
import * as z from 'zod/mini';
import { parseDuration } from './duration.js';

export const withDefault = <T extends z.ZodMiniType>(schema: T, value: z.output<T>) =>
  z._default(schema, value as never);

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
export const envKey = z
  .string()
  .check(z.regex(/^[A-Za-z_][A-Za-z0-9_.-]*$/, { error: 'expected a .env key like DINGTALK_SECRET' }));
export const nonEmpty = z.string().check(z.minLength(1));
// Range first: for 1e20 the useful message is "at most 15", not the safe-integer limit z.int() reports.
export const intBetween = (min: number, max: number) => z.number().check(z.minimum(min), z.maximum(max), z.int());

/** Fields every secret kind shares; a kind's schema (src/kinds/<kind>/schema.ts) spreads them after `kind`. */
export const commonFields = {
  description: z.optional(z.string()),
  rotate_every: durationText,
  warn_before: withDefault(durationText, '14d'),
  after_change: withDefault(z.array(nonEmpty), []),
  hook_timeout: withDefault(durationText, '60s'),
  /** Steps an operator follows by hand (manual kind, revoke instructions). */
  steps: withDefault(z.array(z.string()), []),
  /** One value for every host of the fleet (the policy's fleet: section; docs/fleet.md). */
  shared: z.optional(z.boolean()),
};

/**
 * A secret as the kind-independent code sees it: its kind's name and the shared fields. Each kind
 * narrows it to its own spec type (src/kinds/<kind>/schema.ts); only the kind reads the rest.
 */
export interface SecretSpec {
  kind: string;
  description?: string | undefined;
  rotate_every: string;
  warn_before: string;
  after_change: string[];
  hook_timeout: string;
  steps: string[];
  shared?: boolean | undefined;
}

const backupSchema = z.strictObject({
  dir: withDefault(nonEmpty, 'backups'),
  files: z.optional(z.array(nonEmpty)),
  recipients: withDefault(z.array(nonEmpty), []),
  passphrase_env: z.optional(envName),
  /** Environment variable holding the passphrase of the private key used by `restore --key`. */
  key_passphrase_env: z.optional(envName),
  keep: withDefault(durationText, '30d'),
  /** Largest plaintext a backup may unpack to, in MiB: restore and --list stop there (compression bombs). */
  max_size_mib: withDefault(intBetween(1, 4096), 64),
});

const complianceSchema = z.strictObject({
  modes: withDefault(z.record(nonEmpty, modeText), {}),
  gitignore: withDefault(z.array(nonEmpty), []),
  placeholders: withDefault(z.array(nonEmpty), []),
});

/** The dashboard's access log: who used a leaked password, and the daily watch on 401s. */
const accessLogSchema = z.strictObject({
  path: nonEmpty,
  format: withDefault(z.enum(['combined']), 'combined'),
  /** More 401s than this from one client in 24 h: a warning. */
  failures_warning: withDefault(z.number().check(z.int(), z.positive()), 20),
  /** A brute force: this many 401s from one client in 24 h, or this many user names tried: critical. */
  brute_force_failures: withDefault(z.number().check(z.int(), z.positive()), 200),
  brute_force_users: withDefault(z.number().check(z.int(), z.positive()), 5),
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

const hostName = z
  .string()
  .check(
    z.regex(/^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/, { error: 'expected a host name of letters, digits, ".", "_" or "-"' }),
  );

/** An etcd endpoint: http(s)://host:port, nothing after the port. */
const etcdEndpoint = z.string().check(
  z.refine(
    (text: string) => {
      try {
        const url = new URL(text);
        return (
          (url.protocol === 'http:' || url.protocol === 'https:') &&
          url.port !== '' &&
          (url.pathname === '/' || url.pathname === '') &&
          !url.username &&
          !url.password &&
          !url.search
        );
      } catch {
        return false;
      }
    },
    {
      error:
        'expected an etcd endpoint like https://10.0.0.5:2379 (scheme, host and port; credentials go in user/password_env)',
    },
  ),
);

/**
 * Several hosts, one rotation: shared secrets and a shared audit trail on etcd (docs/fleet.md).
 * Without this section nothing about etcd is loaded or asked.
 */
const fleetSchema = z.strictObject({
  etcd: z.strictObject({
    endpoints: z.array(etcdEndpoint).check(z.minLength(1, { error: 'expected at least one etcd endpoint' })),
    /** CA bundle for https endpoints; cert and key: a client certificate. */
    ca: z.optional(nonEmpty),
    cert: z.optional(nonEmpty),
    key: z.optional(nonEmpty),
    user: z.optional(nonEmpty),
    /** The environment variable holding the etcd user's password (never the policy, never argv). */
    password_env: z.optional(envName),
  }),
  /** Every key of this fleet lives under it. */
  prefix: z
    .string()
    .check(z.regex(/^\/[A-Za-z0-9._/-]*[A-Za-z0-9._-]$/, { error: 'expected a key prefix like /secrets/trading-bot' })),
  /** This host's name in the fleet. */
  host: hostName,
  /** Every member acknowledges a new version within this, or the fleet goes back to the previous one. */
  apply_timeout: withDefault(durationText, '2m'),
  /** The lease behind the fleet's rotation lock: a rotator that dies frees it after this. */
  lock_ttl: withDefault(durationText, '15s'),
});

/**
 * Two-person approval: a rotation of a secret under applies_to runs only from a change request
 * signed by enough distinct pinned approvers (docs/approval.md).
 */
const approvalSchema = z.strictObject({
  /** Valid signatures needed; with self_approval false the requester's own is not counted. */
  required: withDefault(intBetween(1, 10), 2),
  /** Armored OpenPGP public key files, pinned: only these keys' signatures count. */
  approvers: z.array(nonEmpty).check(z.minLength(1, { error: 'expected at least one approver public key file' })),
  self_approval: withDefault(z.boolean(), false),
  /** How long a change request (and so its signatures) stays usable. */
  valid_for: withDefault(durationText, '24h'),
  applies_to: z.union([z.literal('all'), z.array(nonEmpty).check(z.minLength(1))], {
    error: 'expected "all" or a list of secret ids',
  }),
  /** check warns when an approver key expires within this window. */
  warn_before: withDefault(durationText, '30d'),
});

/** What the policy-wide rules need to know of the kinds (the registry, src/kinds/index.ts, answers). */
export interface SecretRules {
  /** The env keys a secret occupies: two secrets may not share one. */
  envKeysOf(spec: SecretSpec): string[];
  /** Whether `notify.dingtalk` may name this secret (a robot the team can be alerted through). */
  canNotify(spec: SecretSpec): boolean;
  /** Whether `shared: true` may be set (one value for every host of a fleet). */
  canShare(spec: SecretSpec): boolean;
  shareableKinds: string[];
}

/**
 * The policy's schema around the union of the kinds' secret schemas. Core knows no kind: the
 * registry (src/kinds/index.ts) builds the union and calls this once.
 */
export function buildPolicySchema<S extends z.ZodMiniType<SecretSpec>>(secretSchema: S, rules: SecretRules) {
  return z
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
      backup: withDefault(backupSchema, { dir: 'backups', recipients: [], keep: '30d', max_size_mib: 64 }),
      compliance: withDefault(complianceSchema, { modes: {}, gitignore: [], placeholders: [] }),
      notify: withDefault(notifySchema, {}),
      access_log: z.optional(accessLogSchema),
      scan: withDefault(scanSchema, { ignore_paths: [], max_file_size: 10 * 1024 * 1024 }),
      approval: z.optional(approvalSchema),
      fleet: z.optional(fleetSchema),
    })
    .check(
      z.superRefine((policy, ctx) => {
        const ids = Object.keys(policy.secrets);
        if (policy.notify.dingtalk !== undefined) {
          const target = policy.secrets[policy.notify.dingtalk];
          if (!target || !rules.canNotify(target)) {
            ctx.addIssue({
              code: 'custom',
              path: ['notify', 'dingtalk'],
              message: `expected the id of a dingtalk secret (${ids.join(', ') || 'none defined'})`,
            });
          }
        }
        const approval = policy.approval;
        if (approval) {
          if (Array.isArray(approval.applies_to)) {
            approval.applies_to.forEach((id, index) => {
              if (!(id in policy.secrets))
                ctx.addIssue({
                  code: 'custom',
                  path: ['approval', 'applies_to', index],
                  message: `expected the id of a secret in this policy (${ids.join(', ') || 'none defined'}), got "${id}"`,
                });
            });
          }
          if (approval.required > approval.approvers.length)
            ctx.addIssue({
              code: 'custom',
              path: ['approval', 'required'],
              message: `${approval.required} signatures required but only ${approval.approvers.length} approver key(s) listed`,
            });
        }
        for (const [id, secret] of Object.entries(policy.secrets)) {
          if (!secret.shared) continue;
          if (!policy.fleet)
            ctx.addIssue({
              code: 'custom',
              path: ['secrets', id, 'shared'],
              message: "shared: true needs the policy's fleet: section (the etcd cluster the hosts share)",
            });
          else if (!rules.canShare(secret))
            ctx.addIssue({
              code: 'custom',
              path: ['secrets', id, 'shared'],
              message: `a ${secret.kind} secret cannot be shared across hosts in this version (shared kinds: ${rules.shareableKinds.join(', ')})`,
            });
        }
        if (policy.fleet) {
          const { cert, key, user, password_env: passwordEnv } = policy.fleet.etcd;
          if ((cert === undefined) !== (key === undefined))
            ctx.addIssue({
              code: 'custom',
              path: ['fleet', 'etcd', cert ? 'cert' : 'key'],
              message: 'a client certificate needs both cert and key',
            });
          if ((user === undefined) !== (passwordEnv === undefined))
            ctx.addIssue({
              code: 'custom',
              path: ['fleet', 'etcd', user ? 'user' : 'password_env'],
              message: 'etcd authentication needs both user and password_env',
            });
        }
        const envKeys = new Map<string, string>();
        for (const [id, secret] of Object.entries(policy.secrets)) {
          for (const key of rules.envKeysOf(secret)) {
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
}

/** A parsed policy document, with each secret seen through its shared fields. */
export type PolicyDocument = z.output<ReturnType<typeof buildPolicySchema<z.ZodMiniType<SecretSpec>>>>;
export type ApprovalSpec = NonNullable<PolicyDocument['approval']>;
export type FleetSpec = NonNullable<PolicyDocument['fleet']>;
