import { basename } from 'node:path';
import type { CheckOutcome, Finding } from '../core/checks/types.js';
import { envValue, parseDotenv } from '../core/dotenv.js';
import { markdownMessage, maskDingtalkUrl, textMessage } from '../core/dingtalk.js';
import { SecretsError } from '../core/errors.js';
import type { Policy } from '../core/policy.js';
import type { DingtalkSpec } from '../kinds/dingtalk/index.js';
import { notifyRobot } from '../kinds/index.js';
import { timeoutMs } from '../core/rotation/plan.js';
import { Secret } from '../core/secret.js';
import type { Deps } from './deps.js';
import { sendDingtalk } from '../kinds/dingtalk/send.js';

/** DingTalk cuts long messages; a page of findings is what anyone reads in a chat anyway. */
const MAX_FINDINGS = 20;

interface NotifyTarget {
  id: string;
  spec: DingtalkSpec;
  url: Secret;
  secret: Secret | undefined;
  dashboardUrl: string | undefined;
}

/** The robot named by `notify.dingtalk`, with its current pair from the env file. */
async function notifyTarget(policy: Policy, deps: Deps): Promise<NotifyTarget> {
  const id = policy.doc.notify.dingtalk;
  if (!id)
    throw new SecretsError('notify-unset', 'the policy names no robot to notify', {
      where: policy.path,
      hint: 'add notify: { dingtalk: <id of a dingtalk secret> }',
    });
  const spec = notifyRobot(policy.secrets.find((secret) => secret.id === id)?.spec);
  if (!spec)
    throw new SecretsError('notify-unset', `notify.dingtalk: ${id} is not a dingtalk secret`, { where: policy.path });
  const text = (await deps.files.readTextIfExists(policy.envFile)) ?? '';
  const env = parseDotenv(text, policy.envFile);
  const url = envValue(env, spec.url_key);
  if (!url) throw new SecretsError('notify-unset', `${spec.url_key} is not set`, { where: policy.envFile });
  const secret = spec.secret_key ? envValue(env, spec.secret_key) : undefined;
  if (spec.secret_key && !secret)
    throw new SecretsError('notify-unset', `${spec.secret_key} is not set`, { where: policy.envFile });
  const dashboardKey = policy.doc.notify.dashboard_url_key;
  const dashboardUrl = dashboardKey ? (envValue(env, dashboardKey) ?? deps.env[dashboardKey]) : undefined;
  return {
    id,
    spec,
    url: Secret.known(url),
    secret: secret === undefined ? undefined : Secret.known(secret),
    dashboardUrl,
  };
}

/** `secrets notify --test`: one signed message through the current pair (the seed procedure's webhook test). */
export async function runNotifyTest(input: { policy: Policy }, deps: Deps): Promise<{ robot: string }> {
  const target = await notifyTarget(input.policy, deps);
  await sendDingtalk(
    {
      url: target.url,
      secret: target.secret,
      message: textMessage(
        `[${input.policy.deployment}] webhook test from secrets notify --test: alerts reach this group.`,
        target.spec.keywords,
      ),
      timeoutMs: timeoutMs(target.spec.timeout),
      purpose: 'the test message',
    },
    deps,
  );
  return { robot: maskDingtalkUrl(target.url.reveal()) };
}

function findingLine(finding: Finding): string {
  // Findings never hold values, but a URL in one would carry its access_token: mask to be sure.
  return `- **${finding.severity === 'critical' ? 'CRITICAL' : 'WARNING'}** ${finding.check}: ${maskDingtalkUrl(finding.message.replace(/[\r\n]+/g, ' '))}`;
}

/** The markdown of a check's problems: deployment, worst status, one line per finding, the dashboard link. */
export function checkMessage(
  policy: Policy,
  outcome: CheckOutcome,
  dashboardUrl: string | undefined,
): { title: string; text: string } {
  const title = `[${policy.deployment}] secrets check: ${outcome.status}`;
  const shown = outcome.findings.slice(0, MAX_FINDINGS).map(findingLine);
  const more = outcome.findings.length - shown.length;
  const lines = [`### ${title}`, '', ...shown];
  if (more > 0) lines.push(`- … and ${more} more (run secrets check on the host)`);
  if (dashboardUrl) lines.push('', `[Open the dashboard](${dashboardUrl})`);
  lines.push('', `_${basename(policy.path)} · ${outcome.ranAt.toISOString()}_`);
  return { title, text: lines.join('\n') };
}

/**
 * `secrets check --notify`: the problems to the robot, quiet when all is well. One message a
 * run keeps far below DingTalk's 20 a minute; a rate-limit answer is retried once after a minute.
 */
export async function notifyCheckOutcome(
  input: { policy: Policy; outcome: CheckOutcome },
  deps: Deps,
): Promise<{ sent: boolean }> {
  if (input.outcome.findings.length === 0) return { sent: false };
  const target = await notifyTarget(input.policy, deps);
  const message = checkMessage(input.policy, input.outcome, target.dashboardUrl);
  await sendDingtalk(
    {
      url: target.url,
      secret: target.secret,
      message: markdownMessage(message.title, message.text, target.spec.keywords),
      timeoutMs: timeoutMs(target.spec.timeout),
      purpose: 'the check notification',
    },
    deps,
  );
  return { sent: true };
}

/**
 * One markdown message to the team through the policy's notify robot (`secrets revoke`'s alert).
 * The caller writes the text and keeps values out of it; URLs in it are masked anyway.
 */
export async function notifyTeam(
  input: { policy: Policy; title: string; lines: string[] },
  deps: Deps,
): Promise<{ robot: string }> {
  const target = await notifyTarget(input.policy, deps);
  const text = [`### ${input.title}`, '', ...input.lines.map((line) => maskDingtalkUrl(line.replace(/[\r\n]+/g, ' ')))];
  if (target.dashboardUrl) text.push('', `[Open the dashboard](${target.dashboardUrl})`);
  await sendDingtalk(
    {
      url: target.url,
      secret: target.secret,
      message: markdownMessage(input.title, text.join('\n'), target.spec.keywords),
      timeoutMs: timeoutMs(target.spec.timeout),
      purpose: 'the team alert',
    },
    deps,
  );
  return { robot: maskDingtalkUrl(target.url.reveal()) };
}
