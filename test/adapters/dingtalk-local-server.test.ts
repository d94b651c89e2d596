import { describe, expect, it } from 'vitest';
import { startLocalDingtalkServer } from '../../src/adapters/dingtalk-local-server.js';
import { signedDingtalkUrl } from '../../src/core/dingtalk.js';

async function post(url: string, body: unknown): Promise<{ errcode?: number }> {
  const response = await fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(body),
  });
  return (await response.json()) as { errcode?: number };
}

const hello = { msgtype: 'text', text: { content: 'hello' } };

// The server is product code now (secrets demo runs it); whoever starts it must be able to stop it.
describe('the local DingTalk-compatible server', () => {
  it('accepts a correctly signed message and refuses a bad signature or an unknown token', async () => {
    const server = await startLocalDingtalkServer();
    try {
      const robot = server.addRobot();
      expect(server.baseUrl).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
      expect(await post(signedDingtalkUrl(robot.url, robot.secret, Date.now()), hello)).toMatchObject({ errcode: 0 });
      expect(await post(signedDingtalkUrl(robot.url, `${robot.secret}x`, Date.now()), hello)).toMatchObject({
        errcode: 310000,
      });
      expect(
        await post(
          signedDingtalkUrl(robot.url.replace(robot.accessToken, '0'.repeat(64)), robot.secret, Date.now()),
          hello,
        ),
      ).toMatchObject({ errcode: 300001 });
      expect(server.accepted().map((message) => message.accessToken)).toEqual([robot.accessToken]);
    } finally {
      await server.close();
    }
  });

  it('close() frees the port even with a request left hanging', async () => {
    const server = await startLocalDingtalkServer();
    const robot = server.addRobot();
    server.answerNext('hang');
    const pending = fetch(signedDingtalkUrl(robot.url, robot.secret, Date.now()), {
      method: 'POST',
      body: JSON.stringify(hello),
    }).catch(() => 'closed');
    await new Promise((resolve) => setTimeout(resolve, 100));
    await server.close();
    expect(await pending).toBe('closed');
    await expect(fetch(`${server.baseUrl}/robot/send`, { method: 'POST' })).rejects.toThrow();
  });
});
