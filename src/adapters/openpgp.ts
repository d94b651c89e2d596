import { randomBytes } from 'node:crypto';
import * as openpgp from 'openpgp';
import { openSessionKeyPacket, sessionKeyPacket } from './pgp-passphrase.js';

/** The fields of openpgp.js's SymEncryptedSessionKeyPacket read here (not in its public types). */
interface SkeskPacket {
  version: number;
  s2k?: { type: 'simple' | 'salted' | 'iterated'; algorithm: number; salt?: Uint8Array | null; c?: number };
  sessionKeyAlgorithm?: number | null;
  sessionKeyEncryptionAlgorithm?: number | null;
  encrypted?: Uint8Array | null;
}
import { SecretsError } from '../core/errors.js';
import type { Pgp, PgpDecryptOptions, PgpEncryptOptions, PgpMessageInfo } from '../core/ports.js';
import { Secret } from '../core/secret.js';

/**
 * Settings chosen so that GnuPG 2.2 (Debian 12) opens what we write — verified with gpg 2.2.40:
 * - `aeadProtect: false`: SEIPD v1 with an MDC. SEIPD v2 / AEAD (RFC 9580) is unknown to gpg 2.2.
 * - AES-256, the strongest cipher every OpenPGP implementation reads.
 * - iterated+salted S2K for passphrases: Argon2 S2K (RFC 9580) is also unknown to gpg 2.2.
 * - no compression: secret files are small, and compressing before encrypting leaks length
 *   patterns of the content for nothing.
 * Reading stays permissive (gpg's own default output, ZLIB-compressed, decrypts fine).
 */
export const GPG22_COMPATIBLE_CONFIG: openpgp.PartialConfig = {
  aeadProtect: false,
  preferredSymmetricAlgorithm: openpgp.enums.symmetric.aes256,
  preferredCompressionAlgorithm: openpgp.enums.compression.uncompressed,
  s2kType: openpgp.enums.s2k.iterated,
};

const HIDDEN_RECIPIENT = '0000000000000000';

async function readPublicKey(armored: string): Promise<openpgp.Key> {
  try {
    return await openpgp.readKey({ armoredKey: armored });
  } catch {
    throw new SecretsError('pgp-bad-key', 'a backup recipient is not a readable OpenPGP public key', {
      hint: 'export it with gpg --armor --export KEYID',
    });
  }
}

/** The key's encryption (sub)key ids, or a one-line refusal instead of openpgp's stack trace. */
async function encryptionKeyIdsOf(key: openpgp.Key): Promise<string[]> {
  const ids: string[] = [];
  for (const candidate of [key, ...key.subkeys]) {
    try {
      const found = await key.getEncryptionKey(candidate.getKeyID());
      ids.push(found.getKeyID().toHex());
    } catch {
      // not an encryption key, expired or revoked: skip it
    }
  }
  if (ids.length === 0) {
    throw new SecretsError(
      'pgp-no-encryption-key',
      `the public key ${key.getKeyID().toHex().toUpperCase()} has no usable encryption subkey (a signing-only, expired or revoked key)`,
      {
        hint: 'add one with gpg --quick-add-key FINGERPRINT cv25519 encr, then export it again',
      },
    );
  }
  return [...new Set(ids)];
}

/** One chunk at a time: openpgp then decrypts and decompresses only as far as its reader pulls. */
function streamOf<T>(value: T): ReadableStream<T> {
  return new ReadableStream<T>({
    start(controller) {
      controller.enqueue(value);
      controller.close();
    },
  });
}

async function readBinaryMessage(bytes: Uint8Array, streamed = false): Promise<openpgp.Message<Uint8Array>> {
  try {
    const armored = new TextDecoder().decode(bytes.subarray(0, 40)).startsWith('-----BEGIN PGP MESSAGE-----');
    if (armored) {
      const text = new TextDecoder().decode(bytes);
      return (await openpgp.readMessage({
        armoredMessage: streamed ? streamOf(text) : text,
      })) as unknown as openpgp.Message<Uint8Array>;
    }
    if (streamed)
      return (await openpgp.readMessage({ binaryMessage: streamOf(bytes) })) as unknown as openpgp.Message<Uint8Array>;
    return await openpgp.readMessage({ binaryMessage: bytes });
  } catch {
    throw new SecretsError(
      'pgp-not-a-message',
      'not a complete OpenPGP message (truncated, corrupt, or not an encrypted backup)',
    );
  }
}

function describeInfo(info: PgpMessageInfo): string {
  return info.recipientKeyIds
    .map((id) => (id === HIDDEN_RECIPIENT ? 'a hidden recipient' : id.toUpperCase()))
    .join(', ');
}

function messageInfo(message: openpgp.Message<Uint8Array>): PgpMessageInfo {
  const tags = [...message.packets].map((packet) => (packet.constructor as unknown as { tag: number }).tag);
  return {
    passphrase: tags.includes(openpgp.enums.packet.symEncryptedSessionKey),
    recipientKeyIds: message.getEncryptionKeyIDs().map((id) => id.toHex()),
  };
}

/**
 * Unprotected private keys already read in this process (a fleet host's key, which `sync --watch`
 * uses on every change): reading an armored key costs more than the decryption it serves.
 */
const readKeys = new Map<string, openpgp.PrivateKey>();

async function unlockPrivateKey(
  armored: Secret,
  passphrase: Secret | undefined,
  passphraseHint = "set the variable named by the policy's backup.key_passphrase_env, or run on a terminal to be asked",
): Promise<openpgp.PrivateKey> {
  const known = readKeys.get(armored.reveal());
  if (known) return known;
  let key: openpgp.PrivateKey;
  try {
    key = await openpgp.readPrivateKey({ armoredKey: armored.reveal() });
    if (key.isDecrypted()) readKeys.set(armored.reveal(), key);
  } catch {
    throw new SecretsError('pgp-bad-private-key', 'the --key file is not an OpenPGP private key', {
      hint: 'export it with gpg --armor --export-secret-keys KEYID',
    });
  }
  if (key.isDecrypted()) return key;
  if (!passphrase)
    throw new SecretsError('pgp-key-locked', 'the private key is protected by a passphrase and none was given', {
      hint: passphraseHint,
    });
  try {
    return await openpgp.decryptKey({ privateKey: key, passphrase: passphrase.reveal() });
  } catch {
    throw new SecretsError('pgp-key-passphrase', 'wrong passphrase for the private key');
  }
}

/**
 * Reads a decrypted stream up to `max` bytes. Past it: the first `max` bytes (prefixOnly), or a
 * refusal; either way the stream is cancelled, so nothing more is decompressed.
 */
async function readAtMost(stream: ReadableStream<Uint8Array>, max: number, prefixOnly: boolean): Promise<Uint8Array> {
  const reader = stream.getReader();
  const chunks: Uint8Array[] = [];
  let total = 0;
  try {
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      chunks.push(value);
      total += value.length;
      if (total > max) {
        await reader.cancel().catch(() => undefined);
        if (prefixOnly) return Buffer.concat(chunks).subarray(0, max);
        throw new SecretsError(
          'backup-too-large',
          `the backup holds more than ${Math.round(max / 1024 / 1024)} MiB once decrypted and unpacked; refused (a compression bomb?)`,
          { hint: 'if it is genuine, raise backup.max_size in the policy' },
        );
      }
    }
  } finally {
    reader.releaseLock();
  }
  return Buffer.concat(chunks);
}

const hex = (bytes: Uint8Array) => Buffer.from(bytes).toString('hex');

async function readDetachedSignature(bytes: Uint8Array): Promise<openpgp.Signature | undefined> {
  try {
    const text = new TextDecoder().decode(bytes);
    return text.trimStart().startsWith('-----BEGIN PGP SIGNATURE-----')
      ? await openpgp.readSignature({ armoredSignature: text })
      : await openpgp.readSignature({ binarySignature: bytes });
  } catch {
    return undefined;
  }
}

/** Revocation of the primary key (a self-signed key revocation signature), when it verifies. */
async function revokedAt(key: openpgp.Key): Promise<Date | null> {
  if (!(await key.isRevoked().catch(() => false))) return null;
  const dates = key.revocationSignatures.map((signature) => signature.created).filter((date) => date !== null);
  return dates.length > 0 ? new Date(Math.min(...dates.map((date) => date.getTime()))) : new Date(0);
}

export const openPgp: Pgp = {
  async encrypt(data: Uint8Array, options: PgpEncryptOptions): Promise<Uint8Array> {
    const keys: openpgp.Key[] = [];
    for (const armored of options.recipients) {
      const key = await readPublicKey(armored);
      await encryptionKeyIdsOf(key);
      keys.push(key);
    }
    if (keys.length === 0 && !options.passphrase)
      throw new SecretsError('pgp-no-material', 'nothing to encrypt with: no recipient and no passphrase');
    const message = await openpgp.createMessage({
      binary: data,
      format: 'binary',
      ...(options.filename ? { filename: options.filename } : {}),
    });
    // The passphrase's session-key packet is ours (pgp-passphrase.ts: bytes, exactly as gpg);
    // openpgp.js encrypts with the session key and adds the public-key packets.
    const sessionKey = { data: new Uint8Array(randomBytes(32)), algorithm: 'aes256' as const };
    const encrypted = await openpgp.encrypt({
      message,
      format: 'binary',
      ...(keys.length > 0 ? { encryptionKeys: keys } : {}),
      sessionKey,
      config: GPG22_COMPATIBLE_CONFIG,
    });
    if (!options.passphrase) return encrypted;
    return new Uint8Array(
      Buffer.concat([sessionKeyPacket(options.passphrase.revealBytes(), sessionKey.data), encrypted]),
    );
  },

  async decrypt(bytes: Uint8Array, options: PgpDecryptOptions): Promise<{ data: Uint8Array; filename: string }> {
    const limited = options.maxBytes !== undefined;
    const message = await readBinaryMessage(bytes, limited);
    const info = messageInfo(message);
    const privateKey = options.privateKey
      ? await unlockPrivateKey(options.privateKey.armored, options.privateKey.passphrase)
      : undefined;
    if (privateKey) {
      const own = [privateKey, ...privateKey.subkeys].map((key) => key.getKeyID().toHex());
      const meant = info.recipientKeyIds.some((id) => id === HIDDEN_RECIPIENT || own.includes(id));
      if (!meant && !(info.passphrase && options.passphrase)) {
        throw new SecretsError(
          'pgp-wrong-key',
          info.recipientKeyIds.length > 0
            ? `not made for this key (made for ${describeInfo(info)})`
            : 'not made for a key: it opens with a passphrase',
        );
      }
    } else if (!info.passphrase) {
      throw new SecretsError(
        'pgp-needs-key',
        info.recipientKeyIds.length > 0
          ? `made for a private key (${describeInfo(info)}), not a passphrase`
          : 'no session key packet: not an encrypted backup',
        {
          hint: info.recipientKeyIds.length > 0 ? 'pass --key FILE with the armored private key' : undefined,
        },
      );
    } else if (!options.passphrase) {
      throw new SecretsError('pgp-needs-passphrase', 'this backup opens with a passphrase and none was given', {
        hint: "set the variable named by the policy's backup.passphrase_env, or run on a terminal to be asked",
      });
    }
    // Passphrase packets are opened here, over the passphrase's bytes (see pgp-passphrase.ts);
    // only a kind we do not handle (AEAD packets of RFC 9580) goes to openpgp.js as text.
    const sessionKeys: Array<{ data: Uint8Array; algorithm: string }> = [];
    let textPassword = false;
    if (options.passphrase) {
      for (const packet of message.packets) {
        if ((packet.constructor as unknown as { tag: number }).tag !== openpgp.enums.packet.symEncryptedSessionKey)
          continue;
        const skesk = packet as unknown as SkeskPacket;
        const opened =
          skesk.version === 4 && skesk.s2k && ['simple', 'salted', 'iterated'].includes(skesk.s2k.type)
            ? openSessionKeyPacket(options.passphrase.revealBytes(), {
                s2k: {
                  type: skesk.s2k.type,
                  hash: skesk.s2k.algorithm,
                  salt: skesk.s2k.salt ?? undefined,
                  c: skesk.s2k.c,
                },
                sessionKeyAlgorithm: skesk.sessionKeyAlgorithm,
                sessionKeyEncryptionAlgorithm: skesk.sessionKeyEncryptionAlgorithm,
                encrypted: skesk.encrypted,
              })
            : undefined;
        if (opened) sessionKeys.push(opened);
        else textPassword = true;
      }
    }
    try {
      const result = await openpgp.decrypt({
        message,
        format: 'binary',
        ...(privateKey ? { decryptionKeys: privateKey } : {}),
        ...(sessionKeys.length > 0 && !privateKey ? { sessionKeys: sessionKeys as openpgp.SessionKey[] } : {}),
        ...(options.passphrase && (textPassword || privateKey) ? { passwords: [options.passphrase.reveal()] } : {}),
        // Integrity is not optional: a SEIPD v1 packet without a valid MDC is refused.
        config: { allowUnauthenticatedMessages: false },
      });
      if (!limited) return { data: result.data, filename: result.filename };
      const data = await readAtMost(
        result.data as unknown as ReadableStream<Uint8Array>,
        options.maxBytes!,
        Boolean(options.prefixOnly),
      );
      return { data, filename: result.filename };
    } catch (error) {
      if (error instanceof SecretsError) throw error;
      const reason = error instanceof Error ? error.message : '';
      const integrity =
        /modification detected|integrity|mdc|tag|truncat|end of stream|unexpected end|packet/i.test(reason) &&
        !/session key/i.test(reason);
      // A public-key session key carries a checksum, so with the right key a failed integrity
      // check means damage. A wrong passphrase, though, can yield a plausible session key that
      // only the integrity check rejects: then (like gpg) we cannot tell the two apart.
      if (integrity && privateKey)
        throw new SecretsError('pgp-damaged', 'the backup is damaged or truncated (its integrity check failed)');
      throw new SecretsError(
        'pgp-cannot-decrypt',
        privateKey
          ? 'cannot decrypt with this key (wrong key, or the file is damaged)'
          : 'cannot decrypt: wrong passphrase, or the file is damaged',
      );
    }
  },

  async inspect(bytes: Uint8Array): Promise<PgpMessageInfo> {
    return messageInfo(await readBinaryMessage(bytes));
  },

  async encryptionKeyIds(armored: string): Promise<string[]> {
    return encryptionKeyIdsOf(await readPublicKey(armored));
  },

  async privateKeyIds(armored: Secret): Promise<string[]> {
    try {
      const key = await openpgp.readPrivateKey({ armoredKey: armored.reveal() });
      return [key, ...key.subkeys].map((candidate) => candidate.getKeyID().toHex());
    } catch {
      throw new SecretsError('pgp-bad-private-key', 'not an OpenPGP private key');
    }
  },

  async signDetached(data, key) {
    const privateKey = await unlockPrivateKey(key.armored, key.passphrase, key.passphraseHint);
    let signature: string;
    try {
      signature = await openpgp.sign({
        message: await openpgp.createMessage({ binary: data }),
        signingKeys: privateKey,
        detached: true,
        format: 'armored',
      });
    } catch (error) {
      const reason = error instanceof Error ? error.message : String(error);
      throw new SecretsError(
        'pgp-cannot-sign',
        `this key cannot sign: ${reason.split('\n')[0]!.replace(/^Error[^:]*: /, '')}`,
        {
          hint: 'an expired or revoked key signs nothing; use a valid key',
        },
      );
    }
    return {
      signature,
      fingerprint: privateKey.getFingerprint(),
      userIds: privateKey.getUserIDs(),
    };
  },

  async privateKeyFingerprint(armored) {
    try {
      return (await openpgp.readPrivateKey({ armoredKey: armored.reveal() })).getFingerprint();
    } catch {
      throw new SecretsError('pgp-bad-private-key', 'the --key file is not an OpenPGP private key', {
        hint: 'export it with gpg --armor --export-secret-keys KEYID',
      });
    }
  },

  async generateKeyPair(userId, validForSeconds) {
    const { privateKey, publicKey } = await openpgp.generateKey({
      type: 'curve25519',
      userIDs: [{ name: userId }],
      keyExpirationTime: validForSeconds,
      format: 'armored',
      config: GPG22_COMPATIBLE_CONFIG,
    });
    const key = await openpgp.readKey({ armoredKey: publicKey });
    const expiration = await key.getExpirationTime().catch(() => null);
    return {
      privateKey: Secret.known(privateKey),
      publicKey,
      fingerprint: key.getFingerprint(),
      expires: expiration instanceof Date ? expiration : null,
    };
  },

  async readApproverKey(armored) {
    let key: openpgp.Key;
    try {
      key = await openpgp.readKey({ armoredKey: armored });
    } catch {
      throw new SecretsError('pgp-bad-key', 'not a readable OpenPGP public key', {
        hint: 'export it with gpg --armor --export KEYID',
      });
    }
    if (key.isPrivate())
      throw new SecretsError(
        'pgp-private-key-pinned',
        'a private key where a public key belongs: pin public keys only',
        {
          hint: 'export the public key with gpg --armor --export KEYID and remove this file',
        },
      );
    const revoked = await revokedAt(key);
    let expires: Date | null = null;
    if (!revoked) {
      const expiration = await key.getExpirationTime().catch(() => null);
      expires = expiration instanceof Date ? expiration : null;
    }
    return {
      fingerprint: key.getFingerprint(),
      keyIds: [key, ...key.subkeys].map((candidate) => candidate.getKeyID().toHex()),
      userIds: key.getUserIDs(),
      expires,
      revoked,
    };
  },

  async verifyDetached(data, signatureBytes, armoredKeys) {
    const signature = await readDetachedSignature(signatureBytes);
    const packet = signature?.packets[0];
    if (!signature || !packet || signature.packets.length !== 1) return { status: 'unreadable' };
    const issuerKeyId = packet.issuerKeyID.toHex();
    const issuerFingerprint = packet.issuerFingerprint ? hex(packet.issuerFingerprint) : undefined;
    const created = packet.created ?? new Date(0);
    const keys = await Promise.all(armoredKeys.map((armored) => openpgp.readKey({ armoredKey: armored })));
    const key = keys.find((candidate) =>
      [candidate, ...candidate.subkeys].some((part) => part.getKeyID().toHex() === issuerKeyId),
    );
    let valid = false;
    if (key) {
      try {
        // At the time of signing: a key that expired since is the decision's to judge (core/approval).
        const result = await openpgp.verify({
          message: await openpgp.createMessage({ binary: data }),
          signature,
          verificationKeys: key,
          date: created,
          format: 'binary',
        });
        valid = (await result.signatures[0]!.verified) === true;
      } catch {
        valid = false;
      }
    }
    return {
      status: 'read',
      issuerKeyId,
      ...(issuerFingerprint ? { issuerFingerprint } : {}),
      created,
      valid,
    };
  },
};
