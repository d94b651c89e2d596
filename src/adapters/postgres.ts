import { SecretsError, errnoCode } from '../core/errors.js';
import type { ConnectionFailure, ConnectionTarget, PostgresClient, SqlSession } from '../core/ports.js';

/** The part of node-postgres used here (it ships no types of its own; @types/pg is not a dependency). */
interface PgClient {
  connect(): Promise<void>;
  query(sql: string, values?: unknown[]): Promise<{ rows: Record<string, unknown>[] }>;
  end(): Promise<void>;
  on(event: 'error', listener: (error: Error) => void): void;
}
type PgClientConstructor = new (config: Record<string, unknown>) => PgClient;

/** SQLSTATE → what it means for a rotation (https://www.postgresql.org/docs/current/errcodes-appendix.html). */
function failureOf(error: unknown): ConnectionFailure {
  const code = errnoCode(error);
  if (code === undefined) {
    const message = error instanceof Error ? error.message : '';
    return /timeout|terminated|ECONN|ENOTFOUND|EAI_AGAIN/i.test(message) ? 'unreachable' : 'other';
  }
  if (/^(ECONNREFUSED|ECONNRESET|ETIMEDOUT|ENOTFOUND|EAI_AGAIN|EHOSTUNREACH|ENETUNREACH|EPIPE)$/.test(code))
    return 'unreachable';
  if (code === '28P01' || code === '28000') return 'login-refused';
  if (code === '42501') return 'denied';
  if (code === '42704' || code === '3D000') return 'missing';
  if (code.startsWith('08') || code === '57P01' || code === '57P03') return 'unreachable';
  return 'other';
}

/**
 * A syntax error quotes the statement near the fault: the string literals of a statement (the
 * verifier of ALTER ROLE) are cut out of the message, whatever the server quotes.
 */
function redacted(error: unknown, sql: string): unknown {
  if (!(error instanceof Error)) return error;
  let message = error.message;
  for (const [, literal] of sql.matchAll(/'((?:[^']|'')*)'/g))
    if (literal && literal.length >= 8) message = message.split(literal).join('…');
  if (message === error.message) return error;
  return Object.assign(new Error(message), { code: errnoCode(error) });
}

/** The server's own message (it never quotes a statement), with the SQLSTATE for searching. */
export function postgresError(error: unknown, where: string): SecretsError {
  const failure = failureOf(error);
  const code = errnoCode(error);
  const message = error instanceof Error ? error.message : String(error);
  return new SecretsError(
    `pg-${failure}`,
    `${where}: ${message}${code && /^[0-9A-Z]{5}$/.test(code) ? ` (SQLSTATE ${code})` : ''}`,
    {
      cause: error,
    },
  );
}

let loaded: Promise<PgClientConstructor> | undefined;
function loadClient(): Promise<PgClientConstructor> {
  // A dynamic import: `secrets check` never loads node-postgres.
  loaded ??= import('pg').then((module) => {
    const pg = (module as { default?: { Client: PgClientConstructor }; Client?: PgClientConstructor }).default;
    return (pg?.Client ?? (module as { Client: PgClientConstructor }).Client)!;
  });
  return loaded;
}

export const nodePostgres: PostgresClient = {
  async connect(target: ConnectionTarget): Promise<SqlSession> {
    const Client = await loadClient();
    const client = new Client({
      host: target.host,
      port: target.port,
      user: target.user,
      database: target.database || target.user,
      ...(target.password ? { password: target.password.reveal() } : {}),
      ...(target.tls ? { ssl: { rejectUnauthorized: target.tls === 'verify' } } : {}),
      connectionTimeoutMillis: target.timeoutMs,
      query_timeout: target.timeoutMs * 4,
      application_name: 'secrets',
    });
    // A connection the server ends (pg_terminate_backend, shutdown) emits 'error'; unheard, it would crash us.
    client.on('error', () => undefined);
    try {
      await client.connect();
    } catch (error) {
      await client.end().catch(() => undefined);
      throw postgresError(error, `${target.user}@${target.host}:${target.port}`);
    }
    return {
      async query<Row extends Record<string, unknown>>(sql: string, values?: unknown[]): Promise<Row[]> {
        try {
          return (await client.query(sql, values)).rows as Row[];
        } catch (error) {
          throw postgresError(redacted(error, sql), `${target.user}@${target.host}:${target.port}`);
        }
      },
      close: () => client.end().catch(() => undefined),
    };
  },
};
