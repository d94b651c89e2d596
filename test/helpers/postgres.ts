import { spawnSync } from 'node:child_process';
import { chmodSync, chownSync, mkdtempSync, readFileSync, rmSync, writeFileSync, appendFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { fakeAlnum } from './fake-secrets.js';
import { freePort, postgresBinDir } from './servers.js';

/** The members of a node-postgres Client the tests use (the package ships no types). */
export interface PgClient {
  query(text: string, values?: unknown[]): Promise<{ rows: Record<string, unknown>[] }>;
  end(): Promise<void>;
}

export interface PostgresServer {
  host: '127.0.0.1';
  port: number;
  /** The superuser `postgres` and its password (made at run time). */
  superPassword: string;
  dataDir: string;
  /** Everything the server logged (log_statement=all: every statement it received). */
  log(): string;
  /** A statement as the superuser, on its own connection. */
  sql<Row = Record<string, unknown>>(text: string, values?: unknown[]): Promise<Row[]>;
  /** Can `user` log in with `password` right now (a fresh connection)? */
  canLogin(user: string, password: string, database?: string): Promise<boolean>;
  /** A connection kept open by the test (closed by stop()). */
  openSession(user: string, password: string, database?: string): Promise<PgClient>;
  /** postgresql://user:password@127.0.0.1:port/db */
  url(user: string, password: string, database?: string): string;
  stop(): Promise<void>;
  /** Stops the server but keeps the data (the "server down" case); start() brings it back. */
  pause(): void;
  start(): void;
}

const running = new Set<PostgresServer>();
process.once('exit', () => {
  for (const server of running) void server.stop();
});

/**
 * Postgres refuses to run as root. As root the cluster belongs to `nobody`, and initdb and pg_ctl
 * run through runuser; otherwise as the current user.
 */
function asServerUser(command: string, args: string[]): { status: number | null; stdout: string; stderr: string } {
  const root = process.getuid?.() === 0;
  const result = root
    ? spawnSync('runuser', ['-u', 'nobody', '--', command, ...args], { encoding: 'utf8' })
    : spawnSync(command, args, { encoding: 'utf8' });
  return { status: result.status, stdout: result.stdout, stderr: result.stderr };
}

/**
 * A throwaway cluster: initdb in a temp folder, 127.0.0.1 on a free port only (no Unix socket),
 * scram-sha-256 for every login, log_statement=all. Start it in beforeAll and stop it in afterAll
 * (stop() is idempotent and also runs at process exit), so a failing test never leaks a server.
 */
export async function startPostgres(): Promise<PostgresServer> {
  const bin = postgresBinDir();
  if (!bin) throw new Error('postgres binaries not found under /usr/lib/postgresql');
  const root = mkdtempSync(join(tmpdir(), 'secrets-pg-'));
  const dataDir = join(root, 'data');
  const logFile = join(root, 'server.log');
  const pwFile = join(root, 'pw');
  const superPassword = fakeAlnum(24);
  const isRoot = process.getuid?.() === 0;
  chmodSync(root, 0o700);
  writeFileSync(pwFile, `${superPassword}\n`, { mode: 0o600 });
  writeFileSync(logFile, '', { mode: 0o600 });
  if (isRoot) for (const path of [root, pwFile, logFile]) chownSync(path, 65534, 65534);
  const init = asServerUser(join(bin, 'initdb'), [
    '-D',
    dataDir,
    '-U',
    'postgres',
    '-A',
    'scram-sha-256',
    `--pwfile=${pwFile}`,
    '--no-sync',
    '-E',
    'UTF8',
    '--locale=C',
  ]);
  rmSync(pwFile, { force: true });
  if (init.status !== 0) {
    rmSync(root, { recursive: true, force: true });
    throw new Error(`initdb failed: ${init.stderr}`);
  }
  const port = await freePort();
  appendFileSync(
    join(dataDir, 'postgresql.conf'),
    [
      `listen_addresses = '127.0.0.1'`,
      `port = ${port}`,
      `unix_socket_directories = ''`,
      `log_statement = 'all'`,
      `log_connections = on`,
      `logging_collector = off`,
      `fsync = off`,
      `max_connections = 40`,
      '',
    ].join('\n'),
  );
  writeFileSync(join(dataDir, 'pg_hba.conf'), 'host all all 127.0.0.1/32 scram-sha-256\n');
  if (isRoot) chownSync(join(dataDir, 'pg_hba.conf'), 65534, 65534);

  const sessions = new Set<PgClient>();
  const start = () => {
    const started = asServerUser(join(bin, 'pg_ctl'), ['start', '-w', '-t', '30', '-D', dataDir, '-l', logFile]);
    if (started.status !== 0) throw new Error(`pg_ctl start failed: ${started.stderr}${readFileSync(logFile, 'utf8')}`);
  };
  const halt = () => {
    asServerUser(join(bin, 'pg_ctl'), ['stop', '-w', '-t', '30', '-m', 'fast', '-D', dataDir]);
  };
  const connect = async (user: string, password: string, database = 'postgres') => {
    const client = new pg.Client({
      host: '127.0.0.1',
      port,
      user,
      password,
      database,
      connectionTimeoutMillis: 5000,
    }) as PgClient & { connect(): Promise<void>; on(event: string, listener: () => void): void };
    client.on('error', () => undefined);
    await client.connect();
    return client;
  };
  let stopped = false;
  const server: PostgresServer = {
    host: '127.0.0.1',
    port,
    superPassword,
    dataDir,
    log: () => readFileSync(logFile, 'utf8'),
    async sql<Row>(text: string, values?: unknown[]) {
      const client = await connect('postgres', superPassword);
      try {
        return (await client.query(text, values)).rows as Row[];
      } finally {
        await client.end();
      }
    },
    async canLogin(user, password, database = 'postgres') {
      try {
        const client = await connect(user, password, database);
        await client.query('SELECT 1');
        await client.end();
        return true;
      } catch {
        return false;
      }
    },
    async openSession(user, password, database = 'postgres') {
      const client = await connect(user, password, database);
      sessions.add(client);
      return client;
    },
    url: (user, password, database = 'postgres') => `postgresql://${user}:${password}@127.0.0.1:${port}/${database}`,
    pause: halt,
    start,
    async stop() {
      if (stopped) return;
      stopped = true;
      running.delete(server);
      for (const client of sessions) await client.end().catch(() => undefined);
      halt();
      rmSync(root, { recursive: true, force: true });
    },
  };
  running.add(server);
  try {
    start();
  } catch (error) {
    await server.stop();
    throw error;
  }
  return server;
}

/** A login role with a database of its own, as an application has. */
export async function createAppRole(
  server: PostgresServer,
  name: string,
  password: string,
  options: { createrole?: boolean } = {},
): Promise<void> {
  await server.sql(`CREATE ROLE ${name} LOGIN PASSWORD '${password}'${options.createrole ? ' CREATEROLE' : ''}`);
  await server.sql(`CREATE DATABASE ${name} OWNER ${name}`);
}
