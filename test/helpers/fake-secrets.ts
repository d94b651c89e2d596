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
