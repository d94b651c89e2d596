import { randomBytes } from 'node:crypto';

/** How a random value's bytes are written. */
export type RandomEncoding = 'hex' | 'base64' | 'base64url' | 'alphanumeric';

/** The shortest value `bytes` random bytes produce in an encoding. */
export function encodedLength(bytes: number, encoding: RandomEncoding): number {
  switch (encoding) {
    case 'hex':
      return bytes * 2;
    case 'base64':
      return Math.ceil(bytes / 3) * 4;
    case 'base64url':
      return Math.ceil((bytes * 4) / 3);
    case 'alphanumeric':
      // Same entropy as the bytes: log2(62) ≈ 5.954 bits a character.
      return Math.ceil((bytes * 8) / Math.log2(62));
  }
}

const ALPHANUMERIC = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789';

/**
 * A random value with at least the entropy of `bytes` random bytes. Alphanumeric draws by
 * rejection (bytes ≥ 248 are dropped) so every character is equally likely.
 */
export function generateRandomValue(bytes: number, encoding: RandomEncoding): string {
  if (encoding !== 'alphanumeric') return randomBytes(bytes).toString(encoding);
  const length = encodedLength(bytes, 'alphanumeric');
  let out = '';
  while (out.length < length) {
    for (const byte of randomBytes(length * 2)) {
      if (byte < 248 && out.length < length) out += ALPHANUMERIC[byte % 62];
    }
  }
  return out;
}
