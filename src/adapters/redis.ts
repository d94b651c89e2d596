import { SecretsError, errnoCode } from '../core/errors.js';
import type { ConnectionFailure, ConnectionTarget, RedisClient, RedisSession } from '../core/ports.js';

/** The part of ioredis used here. */
interface IoRedis {
  connect(): Promise<void>;
  call(command: string, ...args: string[]): Promise<unknown>;
  quit(): Promise<unknown>;
  disconnect(): void;
  on(event: 'error', listener: (error: Error) => void): void;
}
type IoRedisConstructor = new (options: Record<string, unknown>) => IoRedis;

function failureOf(error: unknown): ConnectionFailure {
  const code = errnoCode(error);
  const message = error instanceof Error ? error.message : String(error);
  if (code && /^(ECONNREFUSED|ECONNRESET|ETIMEDOUT|ENOTFOUND|EAI_AGAIN|EHOSTUNREACH|ENETUNREACH|EPIPE)$/.test(code))
    return 'unreachable';
  if (/^(WRONGPASS|NOAUTH)/.test(message) || /invalid (username-password pair|password)/i.test(message))
    return 'login-refused';
  if (/^NOPERM/.test(message)) return 'denied';
  if (/unknown (command|subcommand)|^ERR unknown/i.test(message)) return 'missing';
  if (/connect|timeout|closed|Connection is closed/i.test(message)) return 'unreachable';
  return 'other';
}

/**
 * Redis quotes the offending argument in its errors ("ERR Error in ACL SETUSER modifier
 * '<password>'…"): every argument after the command and subcommand is cut out of the message.
 */
function redacted(error: unknown, args: string[]): unknown {
  if (!(error instanceof Error)) return error;
  let message = error.message;
  for (const arg of args) if (arg.length >= 4) message = message.split(arg).join('…');
  if (message === error.message) return error;
  const copy = new Error(message);
  return Object.assign(copy, { code: (error as { code?: unknown }).code });
}

export function redisError(error: unknown, where: string): SecretsError {
  const message = error instanceof Error ? error.message : String(error);
  return new SecretsError(`redis-${failureOf(error)}`, `${where}: ${message}`, { cause: error });
}

let loaded: Promise<IoRedisConstructor> | undefined;
function loadClient(): Promise<IoRedisConstructor> {
  // A dynamic import: `secrets check` never loads ioredis.
  loaded ??= import('ioredis').then((module) => module.Redis as unknown as IoRedisConstructor);
  return loaded;
}

/**
 * ioredis, told not to do what suits an application but not a rotation: no reconnecting, no
 * offline queue, no retry (a refused password must be reported, not retried), no ready check
 * before AUTH. AUTH is sent by us on the fresh connection, so its answer is ours to read.
 */
export const ioRedis: RedisClient = {
  async connect(target: ConnectionTarget): Promise<RedisSession> {
    const Redis = await loadClient();
    const where = `${target.user || '(requirepass)'}@${target.host}:${target.port}`;
    const client = new Redis({
      host: target.host,
      port: target.port,
      lazyConnect: true,
      enableReadyCheck: false,
      // RESP2 without HELLO or CLIENT SETINFO: the handshake every Redis speaks, and our own AUTH after it.
      protocol: 2,
      disableClientInfo: true,
      enableOfflineQueue: false,
      maxRetriesPerRequest: 0,
      retryStrategy: () => null,
      reconnectOnError: () => false,
      connectTimeout: target.timeoutMs,
      commandTimeout: target.timeoutMs * 4,
      ...(target.tls ? { tls: { rejectUnauthorized: target.tls === 'verify' } } : {}),
    });
    client.on('error', () => undefined);
    try {
      await client.connect();
      if (target.password !== undefined) {
        const args = target.user ? [target.user, target.password.reveal()] : [target.password.reveal()];
        await client.call('AUTH', ...args);
      }
      if (target.database && target.database !== '0') await client.call('SELECT', target.database);
    } catch (error) {
      client.disconnect();
      throw redisError(error, where);
    }
    return {
      async command(args: string[]): Promise<unknown> {
        try {
          return await client.call(args[0]!, ...args.slice(1));
        } catch (error) {
          throw redisError(redacted(error, args.slice(2)), where);
        }
      },
      async close() {
        await client.quit().catch(() => client.disconnect());
      },
    };
  },
};
