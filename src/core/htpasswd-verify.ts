import { createHash, timingSafeEqual } from 'node:crypto';
import { bcryptMatches } from './bcrypt.js';
import type { Secret } from './secret.js';

const ITOA64 = './0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz';

function to64(value: number, count: number): string {
  let out = '';
  for (let n = 0; n < count; n++, value >>= 6) out += ITOA64[value & 0x3f]!;
  return out;
}

/**
 * MD5-crypt as Apache's `$apr1$` and glibc's `$1$` write it (Poul-Henning Kamp's algorithm: 1000
 * rounds of MD5 over password, salt and the previous digest), so a legacy line can be checked.
 */
export function md5Crypt(password: Buffer, salt: string, magic: '$apr1$' | '$1$'): string {
  const md5 = () => createHash('md5');
  const alternate = md5().update(password).update(salt).update(password).digest();
  const context = md5().update(password).update(magic).update(salt);
  for (let left = password.length; left > 0; left -= 16) context.update(alternate.subarray(0, Math.min(16, left)));
  for (let bits = password.length; bits > 0; bits >>= 1)
    context.update(bits & 1 ? Buffer.from([0]) : password.subarray(0, 1));
  let digest = context.digest();
  for (let round = 0; round < 1000; round++) {
    const step = md5();
    step.update(round & 1 ? password : digest);
    if (round % 3) step.update(salt);
    if (round % 7) step.update(password);
    step.update(round & 1 ? digest : password);
    digest = step.digest();
  }
  const d = digest;
  const encoded =
    to64((d[0]! << 16) | (d[6]! << 8) | d[12]!, 4) +
    to64((d[1]! << 16) | (d[7]! << 8) | d[13]!, 4) +
    to64((d[2]! << 16) | (d[8]! << 8) | d[14]!, 4) +
    to64((d[3]! << 16) | (d[9]! << 8) | d[15]!, 4) +
    to64((d[4]! << 16) | (d[10]! << 8) | d[5]!, 4) +
    to64(d[11]!, 2);
  return `${magic}${salt}$${encoded}`;
}

function sameText(a: string, b: string): boolean {
  const left = Buffer.from(a);
  const right = Buffer.from(b);
  return left.length === right.length && timingSafeEqual(left, right);
}

/**
 * Whether an htpasswd hash accepts the password: bcrypt, `$apr1$`/`$1$` MD5-crypt and `{SHA}`.
 * undefined for the schemes only the system crypt(3) can check (DES, `$5$`, `$6$`).
 */
export async function htpasswdAccepts(password: Secret, hash: string): Promise<boolean | undefined> {
  if (/^\$2[aby]\$/.test(hash)) return bcryptMatches(password, hash);
  const md5 = /^(\$apr1\$|\$1\$)([^$]{1,8})\$/.exec(hash);
  if (md5) return sameText(md5Crypt(Buffer.from(password.reveal(), 'utf8'), md5[2]!, md5[1] as '$apr1$' | '$1$'), hash);
  if (hash.startsWith('{SHA}'))
    return sameText(`{SHA}${createHash('sha1').update(password.reveal(), 'utf8').digest('base64')}`, hash);
  return undefined;
}

/** Per-call cost of trying one variant: bcrypt at a legacy cost takes tens of milliseconds, MD5-crypt well under one. */
export function variantBudget(hash: string): number {
  return /^\$2[aby]\$/.test(hash) ? 16 : 64;
}
