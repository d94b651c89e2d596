import zlib from 'node:zlib';
import { randomBytes, randomInt } from 'node:crypto';

/**
 * Fake secrets made at run time from parts, never committed whole, so the repository passes
 * its own `secrets scan` and no push protection ever blocks it.
 */
export function fakeHex(length: number): string {
  return randomBytes(Math.ceil(length / 2))
    .toString('hex')
    .slice(0, length);
}

const ALNUM = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789';

export function fakeAlnum(length: number, alphabet = ALNUM): string {
  let out = '';
  for (let i = 0; i < length; i++) out += alphabet[randomInt(alphabet.length)];
  return out;
}

/** A DingTalk robot URL; `base` points it at the local test server instead of DingTalk. */
export function fakeDingtalkUrl(base = ['https://oapi', 'dingtalk', 'com'].join('.')): string {
  return `${base}/robot/send?access_token=${fakeHex(64)}`;
}

export function fakeDingtalkSecret(): string {
  return ['S', 'E', 'C'].join('') + fakeHex(64);
}

/**
 * A GitHub (`ghp_`, `gho_`, `ghu_`, `ghs_`, `ghr_`) or npm (`npm_`) token whose checksum holds,
 * computed here independently of src/core/scan/checksums.ts: 30 random base62 characters, then
 * node's CRC32 of them in base62 (0-9A-Za-z), zero-padded to 6.
 */
export function fakeChecksummedToken(prefix: string): string {
  const body = fakeAlnum(30);
  const digits = '0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz';
  let crc = zlib.crc32(body);
  let check = '';
  while (crc > 0) {
    check = digits[crc % 62]! + check;
    crc = Math.floor(crc / 62);
  }
  return prefix + body + check.padStart(6, '0');
}

/** The same token with one of its 30 random characters changed: the checksum no longer holds. */
export function withOneCharacterChanged(token: string, prefixLength = 4): string {
  const at = prefixLength + randomInt(30);
  const swapped = token[at] === 'Q' ? 'R' : 'Q';
  return token.slice(0, at) + swapped + token.slice(at + 1);
}
