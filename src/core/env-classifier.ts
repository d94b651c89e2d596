import { dingtalkSecretProblem, dingtalkUrlProblem, encodedLength } from './checks/compliance.js';
import { shannonEntropy } from './scan/entropy.js';

/**
 * Which `.env` entries `secrets init` proposes to manage, and as what kind. Pure: it sees keys and
 * values but returns only kinds, sizes and reasons, so nothing a caller prints can carry a value.
 */

export type RandomEncoding = 'hex' | 'base64' | 'base64url' | 'alphanumeric';

/** Why a secret is tracked rather than generated; picks the hand-written steps in the policy. */
export type ManualCategory =
  'api-key' | 'wallet-key' | 'password' | 'credential-url' | 'dingtalk-secret' | 'unknown-shape';

export interface DingtalkProposal {
  id: string;
  kind: 'dingtalk';
  urlKey: string;
  secretKey: string | null;
  reason: string;
}
export interface RandomProposal {
  id: string;
  kind: 'random';
  envKey: string;
  bytes: number;
  encoding: RandomEncoding;
  reason: string;
}
export interface ManualProposal {
  id: string;
  kind: 'manual';
  envKey: string;
  category: ManualCategory;
  minLength?: number;
  reason: string;
}
/** A database or cache URL with a password: secrets changes it on the server itself. */
export interface ServerCredentialProposal<K extends 'postgres' | 'redis' = 'postgres' | 'redis'> {
  id: string;
  kind: K;
  urlKey: string;
  reason: string;
}
export type SecretProposal =
  | DingtalkProposal
  | RandomProposal
  | ManualProposal
  | ServerCredentialProposal<'postgres'>
  | ServerCredentialProposal<'redis'>;
/** What one entry is, before it gets an id. */
export type EntryClassification =
  | Omit<RandomProposal, 'id'>
  | Omit<ManualProposal, 'id'>
  | Omit<ServerCredentialProposal<'postgres'>, 'id'>
  | Omit<ServerCredentialProposal<'redis'>, 'id'>;

export interface EnvPair {
  key: string;
  value: string;
}

/** Prefixes of keys issued by providers: only their console can make a new one. */
const PROVIDER_KEY_PREFIXES: Array<{ prefix: RegExp; provider: string }> = [
  { prefix: /^sk-ant-/, provider: 'Anthropic' },
  { prefix: /^sk-(proj-|svcacct-|admin-)?[A-Za-z0-9_-]{16,}/, provider: 'OpenAI' },
  { prefix: /^(sk|rk)_(live|test)_/, provider: 'Stripe' },
  { prefix: /^(ghp|gho|ghs|ghu|github_pat)_/, provider: 'GitHub' },
  { prefix: /^glpat-/, provider: 'GitLab' },
  { prefix: /^xox[abposr]-/, provider: 'Slack' },
  { prefix: /^AKIA[0-9A-Z]{16}$/, provider: 'AWS' },
  { prefix: /^AIza[0-9A-Za-z_-]{30,}/, provider: 'Google' },
];

/** Placeholder-looking values: the key is a secret by name, but nothing real is in it yet. */
const PLACEHOLDER_VALUE =
  /^(|change[-_ ]?me|change[-_ ]?it|change-in-production|secret|password|todo|xxx+|your[-_].*|.*_here|<.*>)$/i;

/** user:password@ (or :password@) after a scheme: a password inside a connection URL. */
const CREDENTIAL_URL = /^[a-z][a-z0-9+.-]*:\/\/[^\s/@]*:[^\s/@]+@/i;

const isDingtalkUrlKey = (key: string) => /DINGTALK/i.test(key) && /(WEBHOOK|URL)/i.test(key);
const isDingtalkSecretKey = (key: string) => /DINGTALK/i.test(key) && /SECRET/i.test(key);
const isDingtalkUrlValue = (value: string) => dingtalkUrlProblem(value) === undefined;
const isDingtalkSecretValue = (value: string) => dingtalkSecretProblem(value) === undefined;

/**
 * The encoding of a value that looks machine-generated, or undefined for anything a person may
 * have typed. Hex needs no mixing of cases; the others need upper, lower and digits together,
 * which a random string of 16+ characters almost always has and a passphrase almost never does.
 */
export function randomEncodingOf(value: string): RandomEncoding | undefined {
  if (value.length < 16) return undefined;
  if (/^[0-9a-f]+$/.test(value) || /^[0-9A-F]+$/.test(value))
    return value.length % 2 === 0 && shannonEntropy(value) >= 2.5 ? 'hex' : undefined;
  const mixed = /[a-z]/.test(value) && /[A-Z]/.test(value) && /[0-9]/.test(value) && shannonEntropy(value) >= 3.5;
  if (!mixed) return undefined;
  if (/^[A-Za-z0-9]+$/.test(value)) return 'alphanumeric';
  if (/^[A-Za-z0-9_-]+$/.test(value)) return 'base64url';
  if (/^[A-Za-z0-9+/]+={0,2}$/.test(value)) return 'base64';
  return undefined;
}

/**
 * The largest byte count (16..512, the policy's bounds) whose encoding is no longer than the
 * current value, so `check` accepts today's value and a rotation keeps the same strength.
 */
export function bytesFor(length: number, encoding: RandomEncoding): number {
  let bytes = Math.min(
    512,
    Math.max(
      16,
      encoding === 'hex'
        ? Math.floor(length / 2)
        : encoding === 'alphanumeric'
          ? Math.floor((length * Math.log2(62)) / 8)
          : Math.floor((length * 3) / 4),
    ),
  );
  while (bytes > 16 && encodedLength(bytes, encoding) > length) bytes--;
  return bytes;
}

/**
 * The bytes the app gets from `value`: the decoded length for hex and base64 (a padded 44-character
 * base64 key is 32 bytes, not the 33 its length suggests), the estimate for alphanumeric, which
 * decodes to nothing. Within the policy's bounds, so check accepts today's value.
 */
export function bytesOfValue(value: string, encoding: RandomEncoding): number {
  if (encoding === 'alphanumeric') return bytesFor(value.length, encoding);
  const decoded =
    encoding === 'hex'
      ? value.length / 2
      : Buffer.from(value.replace(/=+$/, ''), encoding === 'base64url' ? 'base64url' : 'base64').length;
  return Math.min(512, Math.max(16, Math.floor(decoded)));
}

/** A policy id from an env key: JWT_SECRET_KEY → jwt-secret-key. */
export function idFromKey(key: string): string {
  const id = key
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, '-')
    .replace(/^-+|-+$/g, '');
  return (id || 'secret').slice(0, 64);
}

/** DINGTALK_WEBHOOK_URL → DINGTALK_, RISK_DINGTALK_URL → RISK_DINGTALK_: what pairs a URL with its secret. */
function dingtalkPrefix(key: string): string {
  return key.replace(/(WEBHOOK_URL|WEBHOOK|URL|SECRET)$/i, '');
}

/**
 * Values that configure rather than authenticate, whatever the key is called
 * (ACCESS_TOKEN_EXPIRE_MINUTES=60): a number, a boolean, a duration, a host or a host:port. A host's
 * last label must look like a top-level name, so a JWT (dots between long base64url parts) is not one.
 */
const CONFIG_VALUES = [
  /^-?\d{1,12}(\.\d+)?$/,
  /^(true|false|yes|no|on|off|enabled|disabled|none|null)$/i,
  /^\d+(\.\d+)?\s*(ms|s|secs?|seconds?|m|mins?|minutes?|h|hrs?|hours?|d|days?|w|weeks?|mo|months?|y|years?)$/i,
  /^(localhost|(\d{1,3}\.){3}\d{1,3}|\[[0-9a-f:]+\]|([a-z0-9-]{1,63}\.)+[a-z][a-z0-9-]{1,23})(:\d{1,5})?$/i,
];

export function isConfigValue(value: string): boolean {
  const trimmed = value.trim();
  return CONFIG_VALUES.some((pattern) => pattern.test(trimmed));
}

/** Classifies one entry that is not part of a DingTalk pair; undefined: not a secret we know. */
export function classifyEntry(key: string, value: string): EntryClassification | undefined {
  const upper = key.toUpperCase();
  // A password may be all digits or look like a host name; PASSWORD_MIN_LENGTH=12 is still config.
  const passwordNamed =
    /PASSWORD|PASSWD|_PASS$|_PIN$/.test(upper) && !/HOST|PORT|TIMEOUT|TTL|LENGTH|EXPIRE|MINUTES|SECONDS/.test(upper);
  if (!passwordNamed && isConfigValue(value)) return undefined;
  if (CREDENTIAL_URL.test(value) && /^postgres(ql)?:\/\//i.test(value)) {
    return {
      kind: 'postgres',
      urlKey: key,
      reason: 'a Postgres URL with a password; secrets sets a new one on the server (ALTER ROLE) and in the URL',
    };
  }
  if (/^rediss?:\/\/[^\s/@]*:[^\s/@]+@/i.test(value)) {
    return {
      kind: 'redis',
      urlKey: key,
      reason: 'a Redis URL with a password; secrets sets a new one on the server (ACL SETUSER) and in the URL',
    };
  }
  if (CREDENTIAL_URL.test(value)) {
    return {
      kind: 'manual',
      envKey: key,
      category: 'credential-url',
      reason: 'a URL with a password inside; the service that owns it sets a new one',
    };
  }
  const provider = PROVIDER_KEY_PREFIXES.find((candidate) => candidate.prefix.test(value));
  if (provider) {
    return {
      kind: 'manual',
      envKey: key,
      category: 'api-key',
      reason: `${/^[AEIOU]/.test(provider.provider) ? 'an' : 'a'} ${provider.provider} API key; only its console issues a new one`,
    };
  }
  if (/^(POSTGRES|PG|REDIS)_?PASS(WORD)?$/.test(upper)) {
    const postgres = !upper.startsWith('REDIS');
    return {
      kind: 'manual',
      envKey: key,
      category: 'password',
      reason: `the ${postgres ? 'Postgres' : 'Redis'} password alone: the ${postgres ? 'postgres' : 'redis'} kind rotates it on the server once the app reads a URL (${postgres ? 'DATABASE_URL' : 'REDIS_URL'}); tracked until then`,
    };
  }
  if (/PASSWORD|PASSWD|_PASS$/.test(upper)) {
    return {
      kind: 'manual',
      envKey: key,
      category: 'password',
      reason: 'a password another service checks; change it there, then here',
    };
  }
  if (/WALLET|MNEMONIC|SEED_PHRASE|PRIVATE_KEY/.test(upper)) {
    return {
      kind: 'manual',
      envKey: key,
      category: 'wallet-key',
      minLength: value.length >= 64 ? 64 : undefined,
      reason: 'a private key: replacing it means moving what it controls',
    };
  }
  if (/API_?KEY|API_?TOKEN|ACCESS_?TOKEN/.test(upper)) {
    return {
      kind: 'manual',
      envKey: key,
      category: 'api-key',
      reason: 'an API key issued by a provider; only its console issues a new one',
    };
  }
  if (/SECRET/.test(upper) || /_KEY$/.test(upper)) {
    const encoding = randomEncodingOf(value);
    if (encoding) {
      const bytes = bytesOfValue(value, encoding);
      return {
        kind: 'random',
        envKey: key,
        bytes,
        encoding,
        reason: `a random key (${bytes} bytes, ${encoding}, as the current value); the tool can generate the next one`,
      };
    }
    if (PLACEHOLDER_VALUE.test(value.trim())) {
      return {
        kind: 'random',
        envKey: key,
        bytes: 32,
        encoding: 'hex',
        reason: 'a key with no real value yet (empty or a placeholder); the first rotation generates one',
      };
    }
    return {
      kind: 'manual',
      envKey: key,
      category: 'unknown-shape',
      reason: 'named like a secret, but the value does not look generated; tracked, not generated',
    };
  }
  return undefined;
}

/** Adds -2, -3… to ids already taken. */
function uniqueId(wanted: string, taken: Set<string>): string {
  let id = wanted;
  for (let n = 2; taken.has(id); n++) id = `${wanted.slice(0, 60)}-${n}`;
  taken.add(id);
  return id;
}

/**
 * Every secret `init` recognises in a `.env`, in file order: DingTalk pairs (by key name or by
 * value shape), then random keys, provider keys, passwords and credential URLs.
 */
export function classifyEnv(entries: EnvPair[]): SecretProposal[] {
  const latest = new Map<string, string>();
  for (const { key, value } of entries) latest.set(key, value);
  const keys = [...latest.keys()];
  const urlKeys = keys.filter((key) => isDingtalkUrlKey(key) || isDingtalkUrlValue(latest.get(key)!));
  const secretKeys = keys.filter(
    (key) => !urlKeys.includes(key) && (isDingtalkSecretKey(key) || isDingtalkSecretValue(latest.get(key)!)),
  );

  const proposals: SecretProposal[] = [];
  const taken = new Set<string>();
  const paired = new Set<string>();
  for (const urlKey of urlKeys) {
    const free = secretKeys.filter((key) => !paired.has(key));
    const samePrefix = free.find((key) => dingtalkPrefix(key) === dingtalkPrefix(urlKey));
    // One robot and one secret in the file belong together whatever their names.
    const secretKey = samePrefix ?? (urlKeys.length === 1 && free.length === 1 ? free[0]! : null);
    if (secretKey) paired.add(secretKey);
    paired.add(urlKey);
    const prefixId = idFromKey(dingtalkPrefix(urlKey));
    proposals.push({
      id: uniqueId(prefixId === '' || prefixId === 'secret' ? 'dingtalk' : prefixId, taken),
      kind: 'dingtalk',
      urlKey,
      secretKey,
      reason: secretKey
        ? 'a DingTalk robot: webhook URL and signing secret, rotated together'
        : 'a DingTalk robot without a signing secret (keyword-secured)',
    });
  }
  for (const key of keys) {
    if (paired.has(key)) continue;
    const value = latest.get(key)!;
    if (secretKeys.includes(key)) {
      proposals.push({
        id: uniqueId(idFromKey(key), taken),
        kind: 'manual',
        envKey: key,
        category: 'dingtalk-secret',
        reason: 'a DingTalk signing secret without a webhook URL to pair it with',
      });
      continue;
    }
    const classified = classifyEntry(key, value);
    if (classified) proposals.push({ id: uniqueId(idFromKey(key), taken), ...classified });
  }
  return proposals;
}
