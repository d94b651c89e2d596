import bcrypt from 'bcryptjs';
import type { Secret } from './secret.js';

/**
 * A `$2y$` bcrypt hash of the password at `cost`. bcryptjs writes `$2b$`; `$2y$` is the same
 * algorithm under the prefix Apache's `htpasswd -B` writes, which every Apache (including 2.2-era
 * builds that predate `$2b$`) and nginx through crypt(3) accept.
 */
export async function bcryptHash(password: Secret, cost: number): Promise<string> {
  const hash = await bcrypt.hash(password.reveal(), cost);
  return hash.replace(/^\$2[ab]\$/, '$2y$');
}

/** Whether `hash` (any of $2a$/$2b$/$2y$) matches the password: the rotation's test step. */
export async function bcryptMatches(password: Secret, hash: string): Promise<boolean> {
  if (!/^\$2[aby]\$/.test(hash)) return false;
  return bcrypt.compare(password.reveal(), hash.replace(/^\$2y\$/, '$2b$'));
}
