import { createHmac } from 'node:crypto';
import { maskValue } from './secret.js';

/**
 * DingTalk custom robot signing (open.dingtalk.com, "自定义机器人安全设置 · 加签"):
 * sign = urlEncode(base64(HMAC-SHA256(key = secret, data = timestamp + "\n" + secret))), with
 * the timestamp in milliseconds; DingTalk refuses a timestamp more than an hour from its clock.
 * The signed URL is built by string concatenation: the sign is already URL-encoded, and putting it
 * through URLSearchParams would encode it a second time, which DingTalk always rejects (310000).
 */
export function dingtalkSign(secret: string, timestampMs: number): string {
  const base64 = createHmac('sha256', secret).update(`${timestampMs}\n${secret}`, 'utf8').digest('base64');
  return encodeURIComponent(base64);
}

/** The webhook URL with `timestamp` and `sign` appended; without a secret (keyword robots) the URL as is. */
export function signedDingtalkUrl(webhookUrl: string, secret: string | undefined, timestampMs: number): string {
  if (!secret) return webhookUrl;
  const separator = webhookUrl.includes('?') ? '&' : '?';
  return `${webhookUrl}${separator}timestamp=${timestampMs}&sign=${dingtalkSign(secret, timestampMs)}`;
}

/** The access_token is a credential: every URL shown anywhere goes through this. */
export function maskDingtalkUrl(text: string): string {
  return text
    .replace(/(access_token=)([^&\s"']+)/g, (_all, prefix: string, token: string) => `${prefix}${maskValue(token)}`)
    .replace(/([?&]sign=)([^&\s"']+)/g, '$1…');
}

export interface DingtalkTextMessage {
  msgtype: 'text';
  text: { content: string };
}
export interface DingtalkMarkdownMessage {
  msgtype: 'markdown';
  markdown: { title: string; text: string };
}
export type DingtalkMessage = DingtalkTextMessage | DingtalkMarkdownMessage;

/**
 * Keyword robots drop any message that lacks one of their keywords (310000), so every message
 * carries all of the policy's keywords, in a trailing line when the text lacks them.
 */
export function withKeywords(text: string, keywords: string[]): string {
  const missing = keywords.filter((keyword) => !text.includes(keyword));
  return missing.length === 0 ? text : `${text}\n${missing.join(' ')}`;
}

export function textMessage(text: string, keywords: string[]): DingtalkTextMessage {
  return { msgtype: 'text', text: { content: withKeywords(text, keywords) } };
}

export function markdownMessage(title: string, text: string, keywords: string[]): DingtalkMarkdownMessage {
  return {
    msgtype: 'markdown',
    markdown: { title: withKeywords(title, keywords), text: withKeywords(text, keywords) },
  };
}

/** DingTalk's answer, read from the body: it answers errors with HTTP 200. */
export type DingtalkVerdict =
  { ok: true } | { ok: false; errcode?: number; retryAfterLimit: boolean; explanation: string };

export const RATE_LIMIT_CODES = [130101, 410100];

/** Plain explanations of the error codes an operator meets while rotating. */
export function explainDingtalkError(errcode: number, errmsg: string): string {
  const said = errmsg ? ` (DingTalk said: "${errmsg}")` : '';
  switch (errcode) {
    case 310000:
      return `DingTalk refused the security check: the signature or timestamp is wrong (is the secret the one shown for this robot? is this host's clock right?), a required keyword is missing, or this host's IP is not on the robot's whitelist${said}`;
    case 300001:
    case 300005:
      return `DingTalk does not know this access_token: the webhook URL is wrong, or the robot was removed or its token reset${said}`;
    case 130101:
    case 410100:
      return `DingTalk's rate limit: at most 20 messages a minute per robot, then it throttles the robot for ten minutes${said}`;
    default:
      return `DingTalk answered errcode ${errcode}${said}`;
  }
}

/** Reads an HTTP answer from a robot webhook: only errcode 0 is success. */
export function judgeDingtalkAnswer(status: number, body: string): DingtalkVerdict {
  if (status >= 500)
    return {
      ok: false,
      retryAfterLimit: false,
      explanation: `DingTalk answered HTTP ${status} (a server error); try again later`,
    };
  let parsed: unknown;
  try {
    parsed = JSON.parse(body);
  } catch {
    return {
      ok: false,
      retryAfterLimit: false,
      explanation: `DingTalk answered HTTP ${status} with something that is not JSON; is the URL a DingTalk robot webhook?`,
    };
  }
  const errcode = parsed && typeof parsed === 'object' ? (parsed as { errcode?: unknown }).errcode : undefined;
  const errmsg = parsed && typeof parsed === 'object' ? (parsed as { errmsg?: unknown }).errmsg : undefined;
  if (typeof errcode !== 'number')
    return { ok: false, retryAfterLimit: false, explanation: `DingTalk answered HTTP ${status} without an errcode` };
  if (errcode === 0 && status >= 200 && status < 300) return { ok: true };
  if (errcode === 0)
    return { ok: false, errcode, retryAfterLimit: false, explanation: `DingTalk answered HTTP ${status}` };
  return {
    ok: false,
    errcode,
    retryAfterLimit: RATE_LIMIT_CODES.includes(errcode),
    explanation: explainDingtalkError(errcode, maskDingtalkUrl(typeof errmsg === 'string' ? errmsg : '')),
  };
}
