import { createHmac } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import {
  dingtalkSign,
  judgeDingtalkAnswer,
  maskDingtalkUrl,
  signedDingtalkUrl,
  textMessage,
} from '../../src/core/dingtalk.js';
import { fakeDingtalkSecret, fakeDingtalkUrl, fakeHex } from '../helpers/fake-secrets.js';

describe('dingtalkSign', () => {
  it('is the URL-encoded Base64 of HMAC-SHA256(secret, timestamp\\nsecret), encoded once', () => {
    const secret = fakeDingtalkSecret();
    // Find a timestamp whose signature has + / = so the encoding is exercised.
    let timestamp = 1_700_000_000_000;
    let base64 = '';
    do {
      timestamp++;
      base64 = createHmac('sha256', secret).update(`${timestamp}\n${secret}`).digest('base64');
    } while (!/[+/]/.test(base64));
    const sign = dingtalkSign(secret, timestamp);
    expect(decodeURIComponent(sign)).toBe(base64);
    expect(sign).not.toMatch(/[+/=]/);
    expect(sign).not.toContain('%25'); // never encoded twice
    const url = signedDingtalkUrl(fakeDingtalkUrl(), secret, timestamp);
    expect(new URL(url).searchParams.get('sign')).toBe(base64);
    expect(new URL(url).searchParams.get('timestamp')).toBe(String(timestamp));
  });

  it('leaves the URL alone for keyword robots', () => {
    const url = fakeDingtalkUrl();
    expect(signedDingtalkUrl(url, undefined, 1)).toBe(url);
  });
});

describe('maskDingtalkUrl', () => {
  it('masks the access_token and the sign wherever they appear', () => {
    const token = fakeHex(64);
    const masked = maskDingtalkUrl(
      `posting to https://h/robot/send?access_token=${token}&timestamp=1&sign=abc%2B failed`,
    );
    expect(masked).not.toContain(token);
    expect(masked).toContain(`access_token=${token.slice(0, 4)}…${token.slice(-4)}`);
    expect(masked).toContain('sign=…');
  });
});

describe('judgeDingtalkAnswer', () => {
  it.each([
    [200, '{"errcode":0,"errmsg":"ok"}', true, /./],
    [200, '{"errcode":310000,"errmsg":"sign not match"}', false, /signature or timestamp.*sign not match/],
    [200, '{"errcode":300001,"errmsg":"token is not exist"}', false, /does not know this access_token/],
    [200, '{"errcode":130101,"errmsg":"send too fast"}', false, /rate limit/],
    [200, '{"errcode":42,"errmsg":"other"}', false, /errcode 42.*other/],
    [502, '<html>', false, /HTTP 502/],
    [200, 'not json', false, /not JSON/],
    [200, '{"ok":true}', false, /without an errcode/],
    [404, '{"errcode":0}', false, /HTTP 404/],
  ])('HTTP %i %s', (status, body, ok, explanation) => {
    const verdict = judgeDingtalkAnswer(status, body);
    expect(verdict.ok).toBe(ok);
    if (!verdict.ok) expect(verdict.explanation).toMatch(explanation);
  });

  it('marks only the rate-limit codes for the one retry', () => {
    expect(judgeDingtalkAnswer(200, '{"errcode":410100}')).toMatchObject({ retryAfterLimit: true });
    expect(judgeDingtalkAnswer(200, '{"errcode":310000}')).toMatchObject({ retryAfterLimit: false });
  });
});

describe('textMessage', () => {
  it('adds every missing keyword', () => {
    expect(textMessage('rotation test', ['alert', 'test'])).toEqual({
      msgtype: 'text',
      text: { content: 'rotation test\nalert' },
    });
  });
});
