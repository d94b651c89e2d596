import { maskDingtalkUrl } from '../core/dingtalk.js';
import { SecretsError } from '../core/errors.js';
import type { DingtalkTransport, HttpAnswer } from '../core/ports.js';

/** Larger answers are not DingTalk's (its answers are a few dozen bytes); stop reading there. */
const ANSWER_LIMIT = 64 * 1024;

function describeFailure(error: unknown): string {
  const cause = error instanceof Error && error.cause instanceof Error ? error.cause : error;
  const code =
    cause && typeof cause === 'object' && 'code' in cause ? String((cause as { code: unknown }).code) : undefined;
  const message = cause instanceof Error ? cause.message : String(cause);
  return code ? `${code}: ${message}` : message;
}

/**
 * undici, imported on the first send only, so `secrets check` without --notify never loads it.
 * Every error message goes through maskDingtalkUrl: the webhook URL is a credential.
 */
export const undiciDingtalkTransport: DingtalkTransport = {
  async postJson(url, body, { timeoutMs }): Promise<HttpAnswer> {
    const { request } = await import('undici');
    const shown = maskDingtalkUrl(url.replace(/[?&](timestamp|sign)=[^&]*/g, ''));
    try {
      const response = await request(url, {
        method: 'POST',
        headers: { 'content-type': 'application/json; charset=utf-8' },
        body,
        headersTimeout: timeoutMs,
        bodyTimeout: timeoutMs,
        signal: AbortSignal.timeout(timeoutMs),
      });
      let text = '';
      for await (const chunk of response.body) {
        if (text.length < ANSWER_LIMIT) text += Buffer.from(chunk as Uint8Array).toString('utf8');
      }
      return { status: response.statusCode, body: text };
    } catch (error) {
      const name = error instanceof Error ? error.name : '';
      const timedOut =
        name === 'TimeoutError' ||
        name === 'HeadersTimeoutError' ||
        name === 'BodyTimeoutError' ||
        /timeout/i.test(describeFailure(error));
      if (timedOut) {
        throw new SecretsError('dingtalk-timeout', `no answer from ${shown} within ${timeoutMs / 1000}s`, {
          hint: "check the network from this host to DingTalk, or raise the secret's timeout in the policy",
        });
      }
      throw new SecretsError(
        'dingtalk-unreachable',
        `cannot reach ${shown} (${maskDingtalkUrl(describeFailure(error))})`,
        { hint: 'check DNS, proxy and firewall for this host' },
      );
    }
  },
  pause: (ms) => new Promise((resolve) => setTimeout(resolve, ms)),
};
