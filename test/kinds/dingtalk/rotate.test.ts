import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { runRotate } from '../../../src/services/rotate.js';
import { parseDotenv, envValue } from '../../../src/core/dotenv.js';
import { isSecretsError } from '../../../src/core/errors.js';
import { testDeps, scriptedPrompts } from '../../helpers/deps.js';
import { startDingtalkServer, type ScriptedAnswer } from '../../helpers/dingtalk-server.js';
import { fakeDingtalkSecret } from '../../helpers/fake-secrets.js';
import { deploymentWithEnv, readEnv, recordingBackup } from '../../helpers/rotation.js';

const NOW = new Date();

async function setup(options: { keywords?: string[]; secretKey?: boolean; timeout?: string } = {}) {
  const server = await startDingtalkServer();
  const oldRobot = server.addRobot(options.secretKey === false ? { secret: null } : {});
  const newRobot = server.addRobot({
    ...(options.secretKey === false ? { secret: null } : {}),
    ...(options.keywords ? { keywords: options.keywords } : {}),
  });
  const env = [
    '# MT5-CRS',
    'POSTGRES_PASSWORD=unchanged-value',
    `export DINGTALK_WEBHOOK_URL="${oldRobot.url}"`,
    options.secretKey === false ? '' : `DINGTALK_SECRET=${oldRobot.secret} # signing`,
    'TAIL=1',
  ].join('\r\n');
  const { deployment, policy } = await deploymentWithEnv(env, {
    dingtalk: {
      kind: 'dingtalk',
      rotate_every: '90d',
      ...(options.secretKey === false ? { secret_key: null } : {}),
      ...(options.keywords ? { keywords: options.keywords } : {}),
      ...(options.timeout ? { timeout: options.timeout } : {}),
    },
  });
  return { server, oldRobot, newRobot, deployment, policy, env };
}

function stdinFor(robot: { url: string; secret: string | undefined }): string {
  return `DINGTALK_WEBHOOK_URL=${robot.url}\n${robot.secret ? `DINGTALK_SECRET=${robot.secret}\n` : ''}`;
}

describe('rotate dingtalk', () => {
  it('swaps both values after a signed test send, and nothing else', async () => {
    const { server, newRobot, deployment, policy, env } = await setup();
    const backup = recordingBackup();
    const deps = testDeps({ now: NOW, stdin: stdinFor(newRobot) });
    const outcome = await runRotate({ policy, ids: ['dingtalk'], backup, now: NOW }, deps);

    expect(outcome.rotated.map((item) => item.id)).toEqual(['dingtalk']);
    const after = readEnv(deployment);
    const expected = env
      .replace(/DINGTALK_WEBHOOK_URL="[^"]*"/, `DINGTALK_WEBHOOK_URL="${newRobot.url}"`)
      .replace(/DINGTALK_SECRET=\S+/, `DINGTALK_SECRET=${newRobot.secret}`);
    expect(after).toBe(expected);
    // The test message and the confirmation, both signed, through the new robot only.
    expect(server.accepted().map((message) => message.accessToken)).toEqual([
      newRobot.accessToken,
      newRobot.accessToken,
    ]);
    expect(server.accepted()[0]!.text).toMatch(/test-deploy.*rotation test/);
    expect(backup.calls).toEqual([{ files: [policy.envFile], reason: 'before rotating dingtalk' }]);

    const printed = deps.captured.stdout.join('') + deps.captured.stderr.join('');
    for (const step of ['1/4 create', '2/4 test', '3/4 swap', '4/4 record']) expect(printed).toContain(step);
    const audit = readFileSync(join(policy.stateDir, 'audit.jsonl'), 'utf8');
    for (const text of [printed, audit]) {
      expect(text).not.toContain(newRobot.secret!);
      expect(text).not.toContain(newRobot.accessToken);
    }
    expect(audit).toMatch(/"action":"rotated"/);
    expect(existsSync(join(policy.stateDir, 'rotation', 'journal.json'))).toBe(false);
    expect(readdirSync(join(policy.stateDir, 'rotation'))).toEqual([]);
  });

  it('works for a keyword robot without a secret, putting the keywords in every message', async () => {
    const { server, newRobot, deployment, policy } = await setup({ secretKey: false, keywords: ['alert'] });
    await runRotate(
      { policy, ids: ['dingtalk'], backup: recordingBackup(), now: NOW },
      testDeps({ now: NOW, stdin: stdinFor(newRobot) }),
    );
    expect(envValue(parseDotenv(readEnv(deployment), '.env'), 'DINGTALK_WEBHOOK_URL')).toBe(newRobot.url);
    expect(server.accepted()).toHaveLength(2);
    for (const message of server.received) expect(message.text).toContain('alert');
  });

  it('asks on a terminal: the secret twice, hidden', async () => {
    const { newRobot, deployment, policy } = await setup();
    const deps = testDeps({
      now: NOW,
      interactive: true,
      prompts: scriptedPrompts([true, newRobot.url, newRobot.secret!, newRobot.secret!]),
    });
    await runRotate({ policy, ids: ['dingtalk'], backup: recordingBackup(), now: NOW }, deps);
    expect(readEnv(deployment)).toContain(newRobot.secret!);
  });

  it('refuses when the two entries of the secret differ', async () => {
    const { newRobot, deployment, policy, env } = await setup();
    const deps = testDeps({
      now: NOW,
      interactive: true,
      prompts: scriptedPrompts([true, newRobot.url, newRobot.secret!, fakeDingtalkSecret()]),
    });
    await expect(runRotate({ policy, ids: ['dingtalk'], backup: recordingBackup(), now: NOW }, deps)).rejects.toThrow(
      /differ/,
    );
    expect(readEnv(deployment)).toBe(env);
  });

  const failures: Array<
    [string, (ctx: Awaited<ReturnType<typeof setup>>) => { stdin: string; answers?: ScriptedAnswer[] }, RegExp]
  > = [
    [
      'a secret of another robot (310000)',
      (ctx) => ({ stdin: stdinFor({ url: ctx.newRobot.url, secret: fakeDingtalkSecret() }) }),
      /signature or timestamp/,
    ],
    [
      'an unknown token (300001)',
      (ctx) => ({
        stdin: stdinFor({
          url: ctx.newRobot.url.replace(/access_token=\w+/, `access_token=${'0'.repeat(64)}`),
          secret: ctx.newRobot.secret,
        }),
      }),
      /does not know this access_token/,
    ],
    [
      'a revoked token (300005)',
      (ctx) => ({ stdin: stdinFor(ctx.newRobot), answers: [{ errcode: 300005 }] }),
      /does not know this access_token/,
    ],
    [
      'the rate limit twice (130101)',
      (ctx) => ({ stdin: stdinFor(ctx.newRobot), answers: [{ errcode: 130101 }, { errcode: 130101 }] }),
      /rate limit/,
    ],
    [
      'the rate limit twice (410100)',
      (ctx) => ({ stdin: stdinFor(ctx.newRobot), answers: [{ errcode: 410100 }, { errcode: 410100 }] }),
      /rate limit/,
    ],
    [
      'another error code',
      (ctx) => ({ stdin: stdinFor(ctx.newRobot), answers: [{ errcode: 400013, errmsg: 'group dissolved' }] }),
      /errcode 400013.*group dissolved/,
    ],
    ['HTTP 500', (ctx) => ({ stdin: stdinFor(ctx.newRobot), answers: [{ status: 500, body: 'oops' }] }), /HTTP 500/],
    [
      'garbage',
      (ctx) => ({ stdin: stdinFor(ctx.newRobot), answers: [{ status: 200, body: '<html>hello</html>' }] }),
      /not JSON/,
    ],
    [
      'no answer within the timeout',
      (ctx) => ({ stdin: stdinFor(ctx.newRobot), answers: ['hang'] }),
      /no answer .* within 1s/,
    ],
    [
      'a slow answer past the timeout',
      (ctx) => ({ stdin: stdinFor(ctx.newRobot), answers: [{ delayMs: 1500 }] }),
      /no answer .* within 1s/,
    ],
    [
      'a closed port',
      (ctx) => ({ stdin: stdinFor({ url: ctx.newRobot.url.replace(/:\d+\//, ':1/'), secret: ctx.newRobot.secret }) }),
      /cannot reach/,
    ],
    [
      'a URL that is not a robot webhook',
      (ctx) => ({ stdin: stdinFor({ url: 'https://example.com/hook', secret: ctx.newRobot.secret }) }),
      /not acceptable/,
    ],
    [
      'a malformed secret',
      (ctx) => ({ stdin: stdinFor({ url: ctx.newRobot.url, secret: 'SECshort' }) }),
      /not acceptable/,
    ],
    ['missing input', () => ({ stdin: '' }), /nothing on standard input/],
  ];

  it.each(failures)('refuses %s: .env byte-identical, exit 3, no value shown', async (_name, arrange, message) => {
    const ctx = await setup({ timeout: '1s' });
    const { stdin, answers } = arrange(ctx);
    if (answers) ctx.server.answerNext(...answers);
    const backup = recordingBackup();
    const deps = testDeps({ now: NOW, stdin });
    const error = await runRotate({ policy: ctx.policy, ids: ['dingtalk'], backup, now: NOW }, deps).catch(
      (caught: unknown) => caught,
    );
    expect(isSecretsError(error), String(error)).toBe(true);
    if (!isSecretsError(error)) return;
    expect(error.exitCode).toBe(3);
    expect(error.toLine()).toMatch(message);
    expect(error.toLine()).not.toContain(ctx.newRobot.accessToken);
    expect(error.toLine()).not.toContain(ctx.newRobot.secret!);
    expect(readEnv(ctx.deployment)).toBe(ctx.env);
    expect(backup.calls).toEqual([]);
  });

  it('retries once after the rate limit and then succeeds', async () => {
    const { server, newRobot, deployment, policy } = await setup();
    server.answerNext({ errcode: 130101 });
    await runRotate(
      { policy, ids: ['dingtalk'], backup: recordingBackup(), now: NOW },
      testDeps({ now: NOW, stdin: stdinFor(newRobot) }),
    );
    expect(readEnv(deployment)).toContain(newRobot.secret!);
    expect(server.received.map((message) => message.errcode)).toEqual([130101, 0, 0]);
  });

  it('refuses a managed key set twice with file:line before anything is sent or written', async () => {
    const server = await startDingtalkServer();
    const robot = server.addRobot();
    const env = `DINGTALK_WEBHOOK_URL=x\nDINGTALK_SECRET=a\nDINGTALK_SECRET=b\n`;
    const { deployment, policy } = await deploymentWithEnv(env, {
      dingtalk: { kind: 'dingtalk', rotate_every: '90d' },
    });
    const error = await runRotate(
      { policy, ids: ['dingtalk'], backup: recordingBackup(), now: NOW },
      testDeps({ now: NOW, stdin: stdinFor(robot) }),
    ).catch((caught: unknown) => caught);
    expect(isSecretsError(error) && error.toLine()).toMatch(/\.env:3: DINGTALK_SECRET is set twice/);
    expect(readEnv(deployment)).toBe(env);
  });

  it.each([
    ['59 minutes behind', -59, true],
    ['61 minutes behind', -61, false],
    ['61 minutes ahead', 61, false],
  ] as const)("signs with this host's clock: %s is %s", async (_name, minutes, accepted) => {
    const { server, newRobot, deployment, policy, env } = await setup();
    const skewed = new Date(Date.now() + minutes * 60_000);
    const run = runRotate(
      { policy, ids: ['dingtalk'], backup: recordingBackup(), now: skewed },
      testDeps({ now: skewed, stdin: stdinFor(newRobot) }),
    );
    if (accepted) {
      await run;
      expect(readEnv(deployment)).toContain(newRobot.secret!);
    } else {
      await expect(run).rejects.toThrow(/timestamp.*host's clock/);
      expect(readEnv(deployment)).toBe(env);
      expect(server.received[0]!.errcode).toBe(310000);
    }
  });
});
