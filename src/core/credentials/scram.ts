import { createHash, createHmac, pbkdf2Sync, randomBytes } from 'node:crypto';
import type { Secret } from '../secret.js';

/** Postgres's own default (scram_iterations): what `\password` in psql and the server itself use. */
export const SCRAM_ITERATIONS = 4096;

/**
 * The SCRAM-SHA-256 verifier Postgres stores for a password (RFC 5802 / RFC 7677):
 * `SCRAM-SHA-256$<iterations>:<salt>$<StoredKey>:<ServerKey>`, all base64. Computed here so that
 * `ALTER ROLE … PASSWORD '<verifier>'` carries no plaintext: with log_statement=all the
 * statement lands in the server log, and node-postgres has no helper for it.
 *
 * The server would SASLprep the password first; the passwords secrets generates are ASCII
 * letters, digits and -_.~ which SASLprep leaves as they are.
 */
export function scramSha256Verifier(
  password: Secret,
  salt: Uint8Array = randomBytes(16),
  iterations = SCRAM_ITERATIONS,
): string {
  const salted = pbkdf2Sync(Buffer.from(password.reveal(), 'utf8'), salt, iterations, 32, 'sha256');
  const clientKey = createHmac('sha256', salted).update('Client Key').digest();
  const storedKey = createHash('sha256').update(clientKey).digest();
  const serverKey = createHmac('sha256', salted).update('Server Key').digest();
  const b64 = (bytes: Uint8Array) => Buffer.from(bytes).toString('base64');
  return `SCRAM-SHA-256$${iterations}:${b64(salt)}$${b64(storedKey)}:${b64(serverKey)}`;
}

/** Whether `password` is SASLprep-neutral (printable ASCII), so the verifier above matches the server's. */
export function isScramSafe(password: Secret): boolean {
  return /^[\x21-\x7e]*$/.test(password.reveal());
}
