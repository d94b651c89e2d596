/**
 * The registry of kinds. A kind is one folder, src/kinds/<kind>/, whose index.ts exports a Kind
 * (./kind.ts); adding one is that folder, one line in KINDS here and one in ./rotations.ts for its
 * rotation handler (kept apart so `secrets check` never loads handlers; docs/adding-a-kind.md). Nothing
 * outside src/kinds/ branches on a kind's name: it asks the kind here (test/architecture.test.ts).
 */
import * as z from 'zod/mini';
import { SecretsError } from '../core/errors.js';
import { parsePolicyWith, resolveIn, type Policy } from '../core/policy.js';
import { buildPolicySchema, type SecretSpec } from '../core/policy-schema.js';
import { dingtalkKind, type DingtalkSpec } from './dingtalk/index.js';
import { htpasswdKind } from './htpasswd/index.js';
import { currentEnvValues } from './env-values.js';
import type { CurrentFiles, Kind } from './kind.js';
import { manualKind } from './manual/index.js';
import { postgresKind } from './postgres/index.js';
import { randomKind } from './random/index.js';
import { redisKind } from './redis/index.js';

/** Every kind, in the order the policy schema and the messages list them. */
export const KINDS = [htpasswdKind, dingtalkKind, randomKind, manualKind, postgresKind, redisKind] as const;

const BY_NAME = new Map<string, Kind>(KINDS.map((kind) => [kind.name, kind as unknown as Kind]));

/** The kind a validated spec names (the schema admits no other). */
export function kindOf(spec: SecretSpec): Kind {
  return kindNamed(spec.kind);
}

export function kindNamed(name: string): Kind {
  const kind = BY_NAME.get(name);
  if (!kind) throw new SecretsError('kind-unsupported', `no kind "${name}" in this version`);
  return kind;
}

/** The secret schema: one of the kinds' schemas, chosen by `kind`. */
export const secretSchema = z.discriminatedUnion(
  'kind',
  KINDS.map((kind) => kind.schema) as unknown as [z.ZodMiniObject, ...z.ZodMiniObject[]],
  { error: `expected one of ${KINDS.map((kind) => kind.name).join(', ')}` },
) as unknown as z.ZodMiniType<SecretSpec>;

/** The whole policy's schema (policies/schema.json is generated from it: npm run schema). */
export const policySchema = buildPolicySchema(secretSchema, {
  envKeysOf: (spec) => BY_NAME.get(spec.kind)?.envKeys(spec) ?? [],
  canNotify: (spec) => BY_NAME.get(spec.kind)?.notifies === true,
  canShare: (spec) => BY_NAME.get(spec.kind)?.shareable === true,
  shareableKinds: KINDS.filter((kind) => (kind as Kind).shareable === true).map((kind) => kind.name),
});

/**
 * Parses and validates policy text. Every error names file:line:col, the field path and what
 * was expected, e.g. `secrets.yaml:14:5: secrets.dingtalk.rotate_every: expected a duration like 90d, got "ninety"`.
 */
export function parsePolicy(text: string, path: string, displayPath = path): Policy {
  return parsePolicyWith(policySchema, text, path, displayPath);
}

/** The files a secret lives in (the env file for env kinds, its own file for htpasswd). */
export function filesOfSecret(policy: Policy, spec: SecretSpec): string[] {
  return kindOf(spec).files(spec, policy);
}

/** The env keys a secret occupies. */
export function envKeysOfSecret(spec: SecretSpec): string[] {
  return kindOf(spec).envKeys(spec);
}

/** The files the backup covers: the policy's list, or the env file and every managed file. */
export function backupFiles(policy: Policy): string[] {
  if (policy.doc.backup.files) return policy.doc.backup.files.map((file) => resolveIn(policy.root, file));
  const files = new Set<string>([policy.envFile]);
  for (const { spec } of policy.secrets) for (const file of filesOfSecret(policy, spec)) files.add(file);
  return [...files];
}

/**
 * The robot `notify.dingtalk` names, as the dingtalk secret it is, or undefined when the spec is
 * not one the team can be alerted through (the policy schema already refuses that).
 */
export function notifyRobot(spec: SecretSpec | undefined): DingtalkSpec | undefined {
  return spec && BY_NAME.get(spec.kind)?.notifies === true ? (spec as DingtalkSpec) : undefined;
}

/** The kinds whose revocation can stop after the cut-off (--lock-only), as text: "htpasswd and dingtalk". */
export function lockOnlyKinds(): string {
  const names: string[] = KINDS.filter((kind) => kind.revocation.noLockOnly === undefined).map((kind) => kind.name);
  return names.length > 1 ? `${names.slice(0, -1).join(', ')} and ${names[names.length - 1]}` : names.join('');
}

/** Every managed value the env file holds now (hooks must not see them, even under another name). */
export function managedEnvValues(policy: Policy, current: CurrentFiles): string[] {
  const keys = policy.secrets.flatMap(({ spec }) => envKeysOfSecret(spec));
  return Object.values(currentEnvValues(policy, current, keys)).flatMap((value) => (value ? [value.reveal()] : []));
}
