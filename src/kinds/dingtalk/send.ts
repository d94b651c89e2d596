import { judgeDingtalkAnswer, maskDingtalkUrl, signedDingtalkUrl, type DingtalkMessage } from '../../core/dingtalk.js';
import { SecretsError } from '../../core/errors.js';
import type { Secret } from '../../core/secret.js';
import type { KindDeps } from '../kind.js';

/** DingTalk throttles a robot that sent 20 messages in a minute; one retry after a minute. */
export const RATE_LIMIT_WAIT_MS = 60_000;

export interface DingtalkSendRequest {
  url: Secret;
  /** Absent for keyword-only robots. */
  secret: Secret | undefined;
  message: DingtalkMessage;
  timeoutMs: number;
  /** Says what the send was for, in error messages ("the rotation test"). */
  purpose: string;
}

/**
 * Sends one message and succeeds only on errcode 0. Each attempt is signed afresh (the
 * timestamp must be within an hour of DingTalk's clock). Any failure is a SecretsError, exit 3,
 * that names the robot by its masked URL.
 */
export async function sendDingtalk(
  request: DingtalkSendRequest,
  deps: Pick<KindDeps, 'dingtalk' | 'clock'>,
): Promise<void> {
  const body = JSON.stringify(request.message);
  const shown = maskDingtalkUrl(request.url.reveal());
  for (let attempt = 1; ; attempt++) {
    const target = signedDingtalkUrl(request.url.reveal(), request.secret?.reveal(), deps.clock.now().getTime());
    const answer = await deps.dingtalk.postJson(target, body, { timeoutMs: request.timeoutMs });
    const verdict = judgeDingtalkAnswer(answer.status, answer.body);
    if (verdict.ok) return;
    if (verdict.retryAfterLimit && attempt === 1) {
      await deps.dingtalk.pause(RATE_LIMIT_WAIT_MS);
      continue;
    }
    throw new SecretsError('dingtalk-refused', `${request.purpose} through ${shown} failed: ${verdict.explanation}`, {
      ...(verdict.errcode === undefined ? {} : { hint: `errcode ${verdict.errcode}` }),
    });
  }
}
