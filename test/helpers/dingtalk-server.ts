import { afterEach } from 'vitest';
import { startLocalDingtalkServer, type LocalDingtalkServer } from '../../src/adapters/dingtalk-local-server.js';

/**
 * The local DingTalk-compatible robot server for tests. The server itself is product code
 * (src/adapters/dingtalk-local-server.ts, which `secrets demo` runs too); this wrapper only
 * closes every server a test started once the test ends.
 */
export type {
  FakeRobot,
  ReceivedMessage,
  RobotOptions,
  ScriptedAnswer,
} from '../../src/adapters/dingtalk-local-server.js';
export type DingtalkTestServer = LocalDingtalkServer;

const running: DingtalkTestServer[] = [];

afterEach(async () => {
  for (const server of running.splice(0)) await server.close();
});

export async function startDingtalkServer(options: { now?: () => number } = {}): Promise<DingtalkTestServer> {
  const server = await startLocalDingtalkServer(options);
  running.push(server);
  return server;
}
