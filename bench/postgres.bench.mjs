#!/usr/bin/env node
// What a database / cache password rotation costs, and whether an application ever sees a
// refused login during one. Starts a throwaway Postgres cluster (initdb + pg_ctl, 127.0.0.1, free
// port, scram-sha-256) and a redis-server with an ACL user, then:
//   - baseline: one plain `psql -c 'select 1'` login (median of 15), measured in the same run;
//   - one `secrets rotate` of each strategy (median of 5): wall time ÷ the psql baseline;
//   - the longest time during a rotation in which a NEW connection with the URL in .env (read
//     again for every attempt, as a restarting app does) was refused, from a client that connects
//     in a loop throughout. Alternating users and Redis ACL should show 0 ms; single shows the
//     window between ALTER ROLE and the .env swap.
import { spawn, spawnSync } from 'node:child_process';
import {
  appendFileSync,
  chmodSync,
  chownSync,
  existsSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { Redis } from 'ioredis';

const here = dirname(fileURLToPath(import.meta.url));
const BIN = join(here, '..', 'bin', 'secrets');
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 5);

const pgBase = '/usr/lib/postgresql';
const major = existsSync(pgBase)
  ? readdirSync(pgBase)
      .filter((name) => existsSync(join(pgBase, name, 'bin/initdb')))
      .sort((a, b) => b - a)[0]
  : undefined;
if (!major || spawnSync('sh', ['-c', 'command -v redis-server && command -v psql']).status !== 0) {
  console.log('postgresql / redis-server not installed (apt-get install -y postgresql redis-server); skipped');
  process.exit(0);
}
const pgBin = join(pgBase, major, 'bin');
const fake = (length) => randomBytes(length).toString('base64url').replace(/[-_]/g, 'x').slice(0, length);
const freePort = () =>
  new Promise((resolve) => {
    const server = createServer().listen(0, '127.0.0.1', () => {
      const { port } = server.address();
      server.close(() => resolve(port));
    });
  });
const median = (values) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)];

// --- Postgres, as nobody when we are root (Postgres refuses root) ---
const root = mkdtempSync(join(tmpdir(), 'secrets-bench-pg-'));
const asRoot = process.getuid?.() === 0;
const asServer = (command, args) =>
  spawnSync(asRoot ? 'runuser' : command, asRoot ? ['-u', 'nobody', '--', command, ...args] : args, {
    encoding: 'utf8',
  });
const dataDir = join(root, 'data');
const superPassword = fake(24);
writeFileSync(join(root, 'pw'), `${superPassword}\n`, { mode: 0o600 });
writeFileSync(join(root, 'log'), '', { mode: 0o600 });
if (asRoot) for (const path of [root, join(root, 'pw'), join(root, 'log')]) chownSync(path, 65534, 65534);
const init = asServer(join(pgBin, 'initdb'), [
  '-D',
  dataDir,
  '-U',
  'postgres',
  '-A',
  'scram-sha-256',
  `--pwfile=${join(root, 'pw')}`,
  '--no-sync',
]);
rmSync(join(root, 'pw'));
if (init.status !== 0) throw new Error(init.stderr);
const pgPort = await freePort();
appendFileSync(
  join(dataDir, 'postgresql.conf'),
  `listen_addresses='127.0.0.1'\nport=${pgPort}\nunix_socket_directories=''\nfsync=off\n`,
);
writeFileSync(join(dataDir, 'pg_hba.conf'), 'host all all 127.0.0.1/32 scram-sha-256\n');
const redisDir = mkdtempSync(join(tmpdir(), 'secrets-bench-redis-'));
let redis;
process.on('exit', () => {
  asServer(join(pgBin, 'pg_ctl'), ['stop', '-m', 'immediate', '-D', dataDir]);
  if (redis && redis.exitCode === null) redis.kill('SIGKILL');
  rmSync(root, { recursive: true, force: true });
  rmSync(redisDir, { recursive: true, force: true });
});
process.on('SIGINT', () => process.exit(130));
if (asServer(join(pgBin, 'pg_ctl'), ['start', '-w', '-D', dataDir, '-l', join(root, 'log')]).status !== 0)
  throw new Error(readFileSync(join(root, 'log'), 'utf8'));

const superSql = async (text) => {
  const client = new pg.Client({
    host: '127.0.0.1',
    port: pgPort,
    user: 'postgres',
    password: superPassword,
    database: 'postgres',
  });
  await client.connect();
  try {
    return (await client.query(text)).rows;
  } finally {
    await client.end();
  }
};

// --- Redis with an ACL user ---
const redisPort = await freePort();
const adminPassword = fake(24);
writeFileSync(join(redisDir, 'users.acl'), `user default off\nuser admin on >${adminPassword} ~* &* +@all\n`, {
  mode: 0o600,
});
writeFileSync(
  join(redisDir, 'redis.conf'),
  `port ${redisPort}\nbind 127.0.0.1\nsave ""\nappendonly no\ndir ${redisDir}\naclfile ${join(redisDir, 'users.acl')}\n`,
);
redis = spawn('redis-server', [join(redisDir, 'redis.conf')], { stdio: 'ignore' });
const redisAs = (user, password) => {
  const client = new Redis({
    host: '127.0.0.1',
    port: redisPort,
    lazyConnect: true,
    enableReadyCheck: false,
    enableOfflineQueue: false,
    maxRetriesPerRequest: 0,
    retryStrategy: () => null,
    protocol: 2,
    disableClientInfo: true,
  });
  client.on('error', () => undefined);
  return client
    .connect()
    .then(async () => {
      await client.call('AUTH', user, password);
      return client;
    })
    .catch((error) => {
      client.disconnect();
      throw error;
    });
};
for (let attempt = 0; ; attempt++) {
  try {
    (await redisAs('admin', adminPassword)).disconnect();
    break;
  } catch (error) {
    if (attempt > 200) throw error;
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
}

// --- baseline: one psql login ---
const basePassword = fake(32);
await superSql(`CREATE ROLE benchbase LOGIN PASSWORD '${basePassword}'`);
const passfile = join(root, 'pgpass');
writeFileSync(passfile, `127.0.0.1:${pgPort}:postgres:benchbase:${basePassword}\n`, { mode: 0o600 });
const psqlTimes = [];
for (let i = 0; i < 15; i++) {
  const start = performance.now();
  const result = spawnSync(
    'psql',
    ['-h', '127.0.0.1', '-p', String(pgPort), '-U', 'benchbase', '-d', 'postgres', '-w', '-Atc', 'select 1'],
    {
      env: { ...process.env, PGPASSFILE: passfile },
      encoding: 'utf8',
    },
  );
  if (result.stdout.trim() !== '1') throw new Error(`psql failed: ${result.stderr}`);
  psqlTimes.push(performance.now() - start);
}
const psqlMs = median(psqlTimes);

// --- one deployment per case ---
let n = 0;
async function deployment(kind, strategy) {
  const dir = mkdtempSync(join(tmpdir(), 'secrets-bench-deploy-'));
  const password = fake(32);
  let url;
  if (kind === 'postgres') {
    const role = `app${++n}`;
    await superSql(`CREATE ROLE ${role} LOGIN PASSWORD '${password}'`);
    await superSql(`CREATE DATABASE ${role} OWNER ${role}`);
    url = `postgresql://${role}:${password}@127.0.0.1:${pgPort}/${role}`;
  } else {
    const user = `app${++n}`;
    const admin = await redisAs('admin', adminPassword);
    await admin.call('ACL', 'SETUSER', user, 'on', `>${password}`, '~*', '&*', '+@all');
    admin.disconnect();
    url = `redis://${user}:${password}@127.0.0.1:${redisPort}/0`;
  }
  writeFileSync(join(dir, '.env'), `URL=${url}\n`, { mode: 0o600 });
  const spec =
    kind === 'postgres'
      ? `kind: postgres\n    url_key: URL\n    strategy: ${strategy}\n${strategy === 'alternating' ? '    admin_url_env: BENCH_PG_ADMIN\n' : ''}`
      : `kind: redis\n    url_key: URL\n    user: app${n}\n`;
  writeFileSync(
    join(dir, 'secrets.yaml'),
    `version: 1\ndeployment: bench\nroot: .\nbackup: { dir: backups, passphrase_env: BENCH_PASSPHRASE }\nsecrets:\n  cred:\n    ${spec}    rotate_every: 90d\n`,
  );
  return dir;
}

const env = {
  ...process.env,
  BENCH_PASSPHRASE: fake(32),
  BENCH_PG_ADMIN: `postgresql://postgres:${superPassword}@127.0.0.1:${pgPort}/postgres`,
  NO_COLOR: '1',
};
const rotate = (dir) =>
  new Promise((resolve, reject) => {
    const start = performance.now();
    const child = spawn(process.execPath, [BIN, 'rotate', 'cred', '--yes'], {
      cwd: dir,
      env,
      stdio: ['ignore', 'ignore', 'pipe'],
    });
    let stderr = '';
    child.stderr.on('data', (chunk) => (stderr += chunk));
    child.on('close', (code) =>
      code === 0 ? resolve(performance.now() - start) : reject(new Error(`rotate failed: ${stderr}`)),
    );
  });

/** Connects in a loop with whatever URL .env holds now; returns the longest refused stretch in ms. */
function loopingClient(dir, kind) {
  let running = true;
  let failingSince;
  let longest = 0;
  let attempts = 0;
  const done = (async () => {
    while (running) {
      const text = readFileSync(join(dir, '.env'), 'utf8');
      const url = new URL(text.trim().slice(4));
      const user = decodeURIComponent(url.username);
      const password = decodeURIComponent(url.password);
      const started = performance.now();
      let ok = true;
      try {
        if (kind === 'postgres') {
          const client = new pg.Client({
            host: '127.0.0.1',
            port: Number(url.port),
            user,
            password,
            database: url.pathname.slice(1),
          });
          client.on('error', () => undefined);
          await client.connect();
          await client.query('SELECT 1');
          await client.end();
        } else {
          (await redisAs(user, password)).disconnect();
        }
      } catch {
        ok = false;
      }
      attempts++;
      if (!ok && failingSince === undefined) failingSince = started;
      if (ok && failingSince !== undefined) {
        longest = Math.max(longest, performance.now() - failingSince);
        failingSince = undefined;
      }
    }
    if (failingSince !== undefined) longest = Math.max(longest, performance.now() - failingSince);
  })();
  return {
    async stop() {
      running = false;
      await done;
      return { longest, attempts };
    },
  };
}

const cases = [
  ['postgres', 'single'],
  ['postgres', 'alternating'],
  ['redis', 'acl'],
];
console.log(`baseline: one psql -c 'select 1' login: ${psqlMs.toFixed(1)} ms (median of ${psqlTimes.length})`);
console.log('case                  rotation (median)   ÷ psql login   longest refusal window (looping client)');
for (const [kind, strategy] of cases) {
  const dir = await deployment(kind, strategy);
  const times = [];
  let window = 0;
  let attempts = 0;
  for (let round = 0; round < ROUNDS; round++) {
    const client = loopingClient(dir, kind);
    await new Promise((resolve) => setTimeout(resolve, 100));
    times.push(await rotate(dir));
    await new Promise((resolve) => setTimeout(resolve, 100));
    const seen = await client.stop();
    window = Math.max(window, seen.longest);
    attempts += seen.attempts;
  }
  rmSync(dir, { recursive: true, force: true });
  const wall = median(times);
  console.log(
    `${`${kind} ${strategy}`.padEnd(22)}${`${wall.toFixed(0)} ms`.padStart(10)}${`${(wall / psqlMs).toFixed(1)}×`.padStart(17)}   ${window.toFixed(1)} ms (worst of ${ROUNDS} rotations, ${attempts} connection attempts)`,
  );
}
process.exit(0);
