import { existsSync, readdirSync } from 'node:fs';
import { createServer } from 'node:net';
import { describeNeeding } from './system-tools.js';

/** A port nothing listens on right now, on 127.0.0.1. */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      const port = typeof address === 'object' && address ? address.port : 0;
      server.close(() => resolve(port));
    });
  });
}

/** Debian keeps initdb and pg_ctl out of PATH, in /usr/lib/postgresql/<major>/bin: the newest there. */
export function postgresBinDir(): string | undefined {
  const base = '/usr/lib/postgresql';
  if (!existsSync(base)) return undefined;
  const majors = readdirSync(base)
    .filter((name) => /^\d+$/.test(name) && existsSync(`${base}/${name}/bin/initdb`))
    .sort((a, b) => Number(b) - Number(a));
  return majors[0] ? `${base}/${majors[0]}/bin` : undefined;
}

function hasRedis(): boolean {
  return ['/usr/bin/redis-server', '/usr/local/bin/redis-server', '/usr/sbin/redis-server'].some((path) =>
    existsSync(path),
  );
}

/**
 * A suite that needs a real Postgres and/or Redis server. Under CI=true a missing server is a
 * failure (.ci/run installs both); elsewhere the suite is skipped with a message saying why.
 */
export function describeWithServers(servers: Array<'postgres' | 'redis'>, name: string, body: () => void): void {
  describeNeeding(
    servers.filter((server) => (server === 'postgres' ? !postgresBinDir() : !hasRedis())),
    name,
    body,
  );
}
