import { createHash } from 'node:crypto';

const sha256 = (text: string) => createHash('sha256').update(text, 'utf8').digest('hex');

/**
 * A finding's identity: rule, path and a hash of the secret, never its line, so a baseline
 * survives edits above it, and a new secret pasted on an accepted line is still new.
 */
export function findingFingerprint(ruleId: string, file: string, secret: string): string {
  return sha256(`${ruleId}\u0000${file}\u0000${sha256(secret)}`);
}

/** Hash of a secret for de-duplication without keeping the value around. */
export function secretDigest(secret: string): string {
  return sha256(secret);
}
