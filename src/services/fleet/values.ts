/**
 * This host's fleet key pair, and the values as they travel through etcd: one OpenPGP message per
 * version, encrypted to every member's public key and signed by the member that wrote it. The
 * payload names its secret and version, so a message moved to another key in etcd is refused.
 */
import { join } from 'node:path';
import { SecretsError, isSecretsError } from '../../core/errors.js';
import type { Policy } from '../../core/policy.js';
import { Secret } from '../../core/secret.js';
import type { Deps } from '../deps.js';
import { ensureStateDir } from '../state/state-lock.js';
import { assertMember, type Fleet, type MemberRecord, type ValueRecord } from './store.js';

/** Member keys are made for two years; check warns 30 days before (a member re-joins with a new key). */
export const HOST_KEY_VALID_SECONDS = 2 * 365 * 24 * 3600;

export interface HostKey {
  privateKey: Secret;
  publicKey: string;
  fingerprint: string;
  expires: Date | null;
}

export function hostKeyPaths(stateDir: string) {
  const dir = join(stateDir, 'fleet');
  return { dir, privateKey: join(dir, 'host.key'), publicKey: join(dir, 'host.pub') };
}

/** This host's key pair; undefined when it has none yet. */
export async function readHostKey(policy: Policy, deps: Deps): Promise<HostKey | undefined> {
  const paths = hostKeyPaths(policy.stateDir);
  let privateText: string | undefined;
  let publicText: string | undefined;
  try {
    privateText = await deps.files.readTextIfExists(paths.privateKey);
    publicText = await deps.files.readTextIfExists(paths.publicKey);
  } catch (error) {
    throw new SecretsError('fleet-key-missing', `this host's fleet key cannot be read (${String(error)})`, {
      where: paths.privateKey,
    });
  }
  if (privateText === undefined && publicText === undefined) return undefined;
  if (privateText === undefined || publicText === undefined)
    throw new SecretsError('fleet-key-missing', "half of this host's fleet key pair is missing", {
      where: privateText === undefined ? paths.privateKey : paths.publicKey,
      hint: 'a host that lost its key joins again: secrets fleet remove HOST on a member, then secrets fleet join here',
    });
  const pgp = await deps.loadPgp();
  const privateKey = Secret.known(privateText);
  const info = await pgp.readApproverKey(publicText).catch(() => {
    throw new SecretsError('fleet-key-missing', "this host's fleet public key is not a readable OpenPGP key", {
      where: paths.publicKey,
    });
  });
  return { privateKey, publicKey: publicText, fingerprint: info.fingerprint, expires: info.expires };
}

/** This host's key pair, made on first use (mode 600 in the state folder, like an ssh host key). */
export async function ensureHostKey(policy: Policy, host: string, deps: Deps): Promise<HostKey> {
  const existing = await readHostKey(policy, deps);
  if (existing) return existing;
  const paths = hostKeyPaths(policy.stateDir);
  await ensureStateDir(policy.stateDir, deps);
  await deps.files.ensureDir(paths.dir, 0o700);
  const pgp = await deps.loadPgp();
  const made = await pgp.generateKeyPair(`secrets fleet host ${host} (${policy.deployment})`, HOST_KEY_VALID_SECONDS);
  await deps.files.writeAtomic(paths.privateKey, made.privateKey.reveal(), { mode: 0o600 });
  await deps.files.writeAtomic(paths.publicKey, made.publicKey, { mode: 0o644 });
  return made;
}

/** What one encrypted message holds. */
interface Payload {
  secret: string;
  version: number;
  values: Record<string, string>;
}

/** Encrypts one version's values to every member and signs it with this host's key. */
export async function sealValues(
  secret: string,
  version: number,
  values: Record<string, Secret>,
  members: MemberRecord[],
  key: HostKey,
  host: string,
  deps: Deps,
): Promise<ValueRecord> {
  const pgp = await deps.loadPgp();
  const payload: Payload = {
    secret,
    version,
    values: Object.fromEntries(Object.entries(values).map(([label, value]) => [label, value.reveal()])),
  };
  const data = new TextEncoder().encode(JSON.stringify(payload));
  const message = await pgp.encrypt(data, {
    recipients: members.map((member) => member.publicKey),
    filename: `${secret}.json`,
  });
  // The signature covers the ciphertext, not the value: a signature over the clear payload, stored
  // in clear, would let anyone who reads etcd confirm a guessed value offline.
  const signed = await pgp.signDetached(message, { armored: key.privateKey });
  return { by: host, message: Buffer.from(message).toString('base64'), signature: signed.signature };
}

/**
 * Opens one version's message with this host's key and checks it: signed by a current member (the
 * one the record names), and about this secret and version.
 */
export async function openValues(
  record: ValueRecord,
  expected: { secret: string; version: number },
  members: MemberRecord[],
  key: HostKey,
  deps: Deps,
): Promise<Record<string, Secret>> {
  const pgp = await deps.loadPgp();
  const message = Buffer.from(record.message, 'base64');
  // The signature is checked first, over the ciphertext (see sealValues): nothing unsigned is opened.
  const signer = members.find((member) => member.host === record.by);
  const reading = signer
    ? await pgp.verifyDetached(message, new TextEncoder().encode(record.signature), [signer.publicKey])
    : undefined;
  if (!signer || !reading || reading.status !== 'read' || !reading.valid)
    throw new SecretsError(
      'fleet-store-invalid',
      `version ${expected.version} of ${expected.secret} is not signed by a current member (${record.by} ${signer ? 'signature invalid' : 'is not a member'}); not applied`,
    );
  let data: Uint8Array;
  try {
    // A version is a few values: a message that inflates past 1 MiB is not one this tool wrote.
    data = (await pgp.decrypt(message, { privateKey: { armored: key.privateKey }, maxBytes: 1024 * 1024 })).data;
  } catch (error) {
    throw new SecretsError(
      'fleet-decrypt-failed',
      `this host's key cannot open version ${expected.version} of ${expected.secret} (${isSecretsError(error) ? error.message : String(error)})`,
      { hint: 'ask a member to run secrets fleet admit again for this host, which re-encrypts every value' },
    );
  }
  let payload: Payload;
  try {
    payload = JSON.parse(new TextDecoder().decode(data)) as Payload;
  } catch {
    throw new SecretsError('fleet-store-invalid', `version ${expected.version} of ${expected.secret} is not readable`);
  }
  if (payload.secret !== expected.secret || payload.version !== expected.version || typeof payload.values !== 'object')
    throw new SecretsError(
      'fleet-store-invalid',
      `the message stored as version ${expected.version} of ${expected.secret} holds another secret or version; not applied`,
    );
  return Object.fromEntries(
    Object.entries(payload.values).map(([label, value]) => [label, Secret.known(String(value))]),
  );
}

/** This host's key, checked against its membership. */
export async function memberHostKey(policy: Policy, fleet: Fleet, deps: Deps): Promise<HostKey> {
  const key = await readHostKey(policy, deps);
  if (!key)
    throw new SecretsError('fleet-not-member', `${fleet.host} has no fleet key: it has not joined the fleet`, {
      hint: 'secrets fleet join here, then secrets fleet admit HOST on a member',
    });
  await assertMember(fleet, key.fingerprint);
  return key;
}
