import { createCipheriv, createDecipheriv, createHash, randomBytes } from 'node:crypto';

/**
 * Passphrases as bytes, exactly as gpg uses them. openpgp.js takes a passphrase as a string and
 * hashes its UTF-8 encoding, so a passphrase that is not valid UTF-8 (Latin-1 typed on an old
 * terminal, bytes from a key file) would be hashed as U+FFFD replacement characters: the backup
 * would open with a different passphrase and never with gpg. So the string-to-key step (RFC 4880
 * 3.7) and the symmetric-key session packet (5.3) are done here, over the raw bytes, and openpgp.js
 * only ever sees the session key.
 */

/** OpenPGP hash algorithm ids → node names (RFC 4880 9.4). */
const HASHES: Record<number, string> = {
  1: 'md5',
  2: 'sha1',
  3: 'ripemd160',
  8: 'sha256',
  9: 'sha384',
  10: 'sha512',
  11: 'sha224',
};

/** OpenPGP symmetric algorithm ids → openpgp.js names, key size and node CFB cipher (RFC 4880 9.2). */
export const CIPHERS: Record<number, { name: string; keySize: number; node: string }> = {
  7: { name: 'aes128', keySize: 16, node: 'aes-128-cfb' },
  8: { name: 'aes192', keySize: 24, node: 'aes-192-cfb' },
  9: { name: 'aes256', keySize: 32, node: 'aes-256-cfb' },
};

const S2K_ITERATED = 3;
/** 16777216 bytes hashed: openpgp.js's default, within what gpg 2.2 calibrates to. */
const COUNT_BYTE = 0xe0;
const SHA256 = 8;
const AES256 = 9;

export interface S2kSpec {
  type: 'simple' | 'salted' | 'iterated';
  hash: number;
  salt?: Uint8Array;
  /** The coded count byte of iterated+salted. */
  c?: number;
}

function countOf(c: number): number {
  return (16 + (c & 15)) << ((c >> 4) + 6);
}

/** The string-to-key function of RFC 4880 3.7.1, over bytes. */
export function stringToKey(passphrase: Uint8Array, spec: S2kSpec, keySize: number): Uint8Array {
  const hashName = HASHES[spec.hash];
  if (!hashName) throw new Error(`unsupported S2K hash algorithm ${spec.hash}`);
  const parts: Buffer[] = [];
  let produced = 0;
  for (let prefix = 0; produced < keySize; prefix++) {
    const hash = createHash(hashName);
    hash.update(Buffer.alloc(prefix));
    const data = Buffer.concat([Buffer.from(spec.salt ?? []), Buffer.from(passphrase)]);
    if (spec.type === 'iterated') {
      // The salt and passphrase repeated until `count` bytes were hashed; `unit` is a whole
      // number of repetitions, so consecutive slices continue the sequence.
      const count = Math.max(countOf(spec.c ?? 0), data.length);
      const unit = Buffer.concat(Array<Buffer>(Math.max(1, Math.floor(65536 / Math.max(data.length, 1)))).fill(data));
      for (let left = unit.length === 0 ? 0 : count; left > 0; left -= unit.length)
        hash.update(unit.subarray(0, Math.min(left, unit.length)));
    } else {
      hash.update(data);
    }
    const digest = hash.digest();
    parts.push(digest);
    produced += digest.length;
  }
  return new Uint8Array(Buffer.concat(parts).subarray(0, keySize));
}

/**
 * A version-4 symmetric-key encrypted session key packet (tag 3) for the `session` key (AES-256),
 * iterated+salted SHA-256, like gpg 2.2 writes: gpg opens it with the same passphrase bytes.
 */
export function sessionKeyPacket(passphrase: Uint8Array, session: Uint8Array): Uint8Array {
  const salt = randomBytes(8);
  const key = stringToKey(passphrase, { type: 'iterated', hash: SHA256, salt, c: COUNT_BYTE }, 32);
  const cipher = createCipheriv('aes-256-cfb', key, Buffer.alloc(16));
  const encrypted = Buffer.concat([cipher.update(Buffer.from([AES256, ...session])), cipher.final()]);
  const body = Buffer.concat([
    Buffer.from([4, AES256, S2K_ITERATED, SHA256]),
    salt,
    Buffer.from([COUNT_BYTE]),
    encrypted,
  ]);
  // New-format packet header, tag 3, one-octet length (the body is 46 bytes).
  return new Uint8Array(Buffer.concat([Buffer.from([0xc0 | 3, body.length]), body]));
}

/**
 * The session key a v4 symmetric-key packet yields for these passphrase bytes: the S2K output
 * itself when the packet carries no encrypted key (gpg --symmetric), else that key decrypted.
 * A wrong passphrase yields a wrong key; the message's integrity check then refuses it.
 */
export function openSessionKeyPacket(
  passphrase: Uint8Array,
  packet: {
    s2k: S2kSpec;
    sessionKeyAlgorithm?: number | null;
    sessionKeyEncryptionAlgorithm?: number | null;
    encrypted?: Uint8Array | null;
  },
): { data: Uint8Array; algorithm: string } | undefined {
  if (!packet.encrypted) {
    const cipher = CIPHERS[packet.sessionKeyAlgorithm ?? -1];
    if (!cipher) return undefined;
    return { data: stringToKey(passphrase, packet.s2k, cipher.keySize), algorithm: cipher.name };
  }
  const wrapping = CIPHERS[packet.sessionKeyEncryptionAlgorithm ?? -1];
  if (!wrapping) return undefined;
  const key = stringToKey(passphrase, packet.s2k, wrapping.keySize);
  const decipher = createDecipheriv(wrapping.node, key, Buffer.alloc(16));
  const plain = Buffer.concat([decipher.update(Buffer.from(packet.encrypted)), decipher.final()]);
  const inner = CIPHERS[plain[0]!];
  if (!inner || plain.length !== inner.keySize + 1) return undefined;
  return { data: new Uint8Array(plain.subarray(1)), algorithm: inner.name };
}
