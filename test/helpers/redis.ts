import { spawn, type ChildProcess } from 'node:child_process';
import { chmodSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Redis } from 'ioredis';
import { fakeAlnum } from './fake-secrets.js';
import { freePort } from './servers.js';

export interface RedisServer {
  host: '127.0.0.1';
  port: number;
  /** The admin ACL user (all commands) and its password; undefined in requirepass mode. */
  admin: { user: string; password: string } | undefined;
  confPath: string;
  aclPath: string | undefined;
  /** The config file and ACL file as they are now (to see what CONFIG REWRITE / ACL SAVE wrote). */
  conf(): string;
  acl(): string;
  /** Everything redis-server printed. */
  output(): string;
  /** Can `user` (or requirepass when user is '') AUTH with `password` on a fresh connection? */
  canLogin(user: string, password: string): Promise<boolean>;
  /** A connection kept open by the test, authenticated (closed by stop()). */
  openSession(user: string, password: string): Promise<Redis>;
  /** A command as the admin user (or with the requirepass password in requirepass mode). */
  command(args: string[], auth?: { user: string; password: string }): Promise<unknown>;
  url(user: string, password: string, db?: number): string;
  stop(): Promise<void>;
}

const running = new Set<RedisServer>();
process.once('exit', () => {
  for (const server of running) void server.stop();
});

async function connectAs(port: number, user: string, password: string): Promise<Redis> {
  const client = new Redis({
    host: '127.0.0.1',
    port,
    lazyConnect: true,
    enableReadyCheck: false,
    // RESP2 and no CLIENT SETINFO: the plain AUTH handshake any Redis (and our own AUTH) understands.
    protocol: 2,
    disableClientInfo: true,
    enableOfflineQueue: false,
    maxRetriesPerRequest: 0,
    retryStrategy: () => null,
  });
  client.on('error', () => undefined);
  await client.connect();
  try {
    await (user ? client.call('AUTH', user, password) : client.call('AUTH', password));
  } catch (error) {
    client.disconnect();
    throw error;
  }
  return client;
}

/**
 * A real redis-server on 127.0.0.1 (free port) from a config file in a temp folder, so CONFIG
 * REWRITE and ACL SAVE have files to write. `users` become ACL users (with an aclfile and an
 * `admin` user); `requirepass` instead starts a server without ACL users, the legacy way.
 * Start in beforeAll/beforeEach and stop in afterAll/afterEach: stop() is idempotent and runs at exit.
 */
export async function startRedis(
  options: { users?: Record<string, string>; requirepass?: string; withoutAcl?: boolean } = {},
): Promise<RedisServer> {
  const root = mkdtempSync(join(tmpdir(), 'secrets-redis-'));
  chmodSync(root, 0o700);
  const port = await freePort();
  const confPath = join(root, 'redis.conf');
  const acl = options.requirepass === undefined;
  const aclPath = acl ? join(root, 'users.acl') : undefined;
  const admin = acl ? { user: 'admin', password: fakeAlnum(24) } : undefined;
  if (aclPath && admin) {
    const lines = [`user ${admin.user} on >${admin.password} ~* &* +@all`];
    if (!options.users || !('default' in options.users)) lines.unshift('user default off');
    for (const [user, password] of Object.entries(options.users ?? {}))
      lines.push(`user ${user} on >${password} ~* &* +@all`);
    writeFileSync(aclPath, `${lines.join('\n')}\n`, { mode: 0o600 });
  }
  writeFileSync(
    confPath,
    [
      `port ${port}`,
      `bind 127.0.0.1`,
      `daemonize no`,
      `save ""`,
      `appendonly no`,
      `dir ${root}`,
      aclPath ? `aclfile ${aclPath}` : `requirepass ${options.requirepass}`,
      // What a Redis before 6 answers to ACL: an unknown command (the real old server is not packaged any more).
      ...(options.withoutAcl ? ['rename-command ACL ""'] : []),
      '',
    ].join('\n'),
    { mode: 0o600 },
  );
  const child: ChildProcess = spawn('redis-server', [confPath], { stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  child.stdout!.on('data', (chunk: Buffer) => (output += chunk.toString('utf8')));
  child.stderr!.on('data', (chunk: Buffer) => (output += chunk.toString('utf8')));
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const sessions = new Set<Redis>();
  let stopped = false;
  const defaultAuth = () => admin ?? { user: '', password: options.requirepass! };
  const server: RedisServer = {
    host: '127.0.0.1',
    port,
    admin,
    confPath,
    aclPath,
    conf: () => readFileSync(confPath, 'utf8'),
    acl: () => (aclPath ? readFileSync(aclPath, 'utf8') : ''),
    output: () => output,
    async canLogin(user, password) {
      try {
        const client = await connectAs(port, user, password);
        await client.call('PING');
        client.disconnect();
        return true;
      } catch {
        return false;
      }
    },
    async openSession(user, password) {
      const client = await connectAs(port, user, password);
      sessions.add(client);
      return client;
    },
    async command(args, auth = defaultAuth()) {
      const client = await connectAs(port, auth.user, auth.password);
      try {
        return await client.call(args[0]!, ...args.slice(1));
      } finally {
        client.disconnect();
      }
    },
    url: (user, password, db = 0) => `redis://${user}:${password}@127.0.0.1:${port}/${db}`,
    async stop() {
      if (stopped) return;
      stopped = true;
      running.delete(server);
      for (const client of sessions) client.disconnect();
      if (child.exitCode === null && child.signalCode === null) {
        child.kill('SIGTERM');
        const timer = setTimeout(() => child.kill('SIGKILL'), 5_000);
        await exited;
        clearTimeout(timer);
      }
      rmSync(root, { recursive: true, force: true });
    },
  };
  running.add(server);
  const deadline = Date.now() + 10_000;
  for (;;) {
    if (child.exitCode !== null) {
      await server.stop();
      throw new Error(`redis-server exited: ${output}`);
    }
    const auth = defaultAuth();
    if (await server.canLogin(auth.user, auth.password)) break;
    if (Date.now() > deadline) {
      await server.stop();
      throw new Error(`redis-server did not answer within 10s: ${output}`);
    }
    await new Promise((resolve) => setTimeout(resolve, 30));
  }
  return server;
}
