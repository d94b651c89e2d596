#!/usr/bin/env node
// One shared-secret rotation across a fleet (issue 17). Starts a real 3-member etcd cluster on
// 127.0.0.1 (data on tmpfs when there is one), then grows one fleet to 10, 25 and 50 host folders,
// each a deployment of its own running `secrets sync --watch` (one process per host, as the systemd
// unit does). For each size, ROUNDS rotations of the shared random key from api-1:
//   - wall time from `secrets rotate` start to its exit 0 (exit 0 = every member acknowledged),
//     and as a ratio to a one-host rotation of a per-host secret measured in the same run;
//   - etcd requests per rotation: grpc_server_handled_total summed over the members' /metrics,
//     after minus before (minus the idle rate measured over the same time without a rotation),
//     and per host, to show it is linear in hosts.
// Goal (issue 17): under 5 s for 50 hosts. BENCH_HOSTS=10,25,50 and BENCH_ROUNDS=3 change the sizes.
import { spawn, spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { accessSync, constants, existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { availableParallelism, loadavg, tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
const BIN = join(here, '..', 'bin', 'secrets');
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 3);
const SIZES = (process.env.BENCH_HOSTS ?? '10,25,50').split(',').map(Number);

if (spawnSync('sh', ['-c', 'command -v etcd && command -v etcdctl']).status !== 0) {
  console.log('etcd / etcdctl not installed (apt-get install -y etcd-server etcd-client); skipped');
  process.exit(0);
}

const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));
const median = (values) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)];
const hex = (bytes) => randomBytes(bytes).toString('hex');
const freePort = () =>
  new Promise((resolve) => {
    const server = createServer().listen(0, '127.0.0.1', () => {
      const { port } = server.address();
      server.close(() => resolve(port));
    });
  });
let shm = tmpdir();
try {
  accessSync('/dev/shm', constants.W_OK);
  shm = '/dev/shm';
} catch {
  // no tmpfs: etcd fsyncs to disk, slower but the same figures per host
}

// --- everything started here is stopped at exit, also on an error or ^C ---
const processes = new Set();
const folders = [];
process.on('exit', () => {
  for (const child of processes) if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  for (const folder of folders) rmSync(folder, { recursive: true, force: true });
});
process.on('SIGINT', () => process.exit(130));
process.on('SIGTERM', () => process.exit(143));

// --- a 3-member etcd cluster ---
const etcdRoot = mkdtempSync(join(shm, 'secrets-bench-etcd-'));
folders.push(etcdRoot);
const ports = new Set();
while (ports.size < 6) ports.add(await freePort());
const [p1, p2, p3, p4, p5, p6] = [...ports];
const members = [
  { name: 'm1', client: `http://127.0.0.1:${p1}`, peer: `http://127.0.0.1:${p2}` },
  { name: 'm2', client: `http://127.0.0.1:${p3}`, peer: `http://127.0.0.1:${p4}` },
  { name: 'm3', client: `http://127.0.0.1:${p5}`, peer: `http://127.0.0.1:${p6}` },
];
const endpoints = members.map((member) => member.client);
const clusterId = `secrets-bench-${hex(6)}`;
const setpriv = ['/usr/bin/setpriv', '/bin/setpriv'].find((path) => existsSync(path));
for (const member of members) {
  const args = [
    `--name=${member.name}`,
    `--data-dir=${join(etcdRoot, member.name)}`,
    `--listen-client-urls=${member.client}`,
    `--advertise-client-urls=${member.client}`,
    `--listen-peer-urls=${member.peer}`,
    `--initial-advertise-peer-urls=${member.peer}`,
    `--initial-cluster=${members.map((m) => `${m.name}=${m.peer}`).join(',')}`,
    `--initial-cluster-token=${clusterId}`,
    '--initial-cluster-state=new',
    '--heartbeat-interval=50',
    '--election-timeout=500',
    '--logger=zap',
    '--log-outputs=stderr',
    '--log-level=error',
  ];
  const command = setpriv ? [setpriv, '--pdeathsig', 'KILL', 'etcd', ...args] : ['etcd', ...args];
  processes.add(spawn(command[0], command.slice(1), { stdio: 'ignore' }));
}
const healthy = async (url) => {
  try {
    const response = await fetch(`${url}/health`, { signal: AbortSignal.timeout(1000) });
    return response.ok && (await response.json()).health === 'true';
  } catch {
    return false;
  }
};
for (let waited = 0; !(await Promise.all(endpoints.map(healthy))).every(Boolean); waited += 100) {
  if (waited > 30_000) throw new Error('etcd cluster not healthy within 30 s');
  await sleep(100);
}
// CPU time (user + system) a process has used so far, from /proc: what one host's sync costs.
const TICK_MS = 1000 / Number(spawnSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).stdout.trim() || 100);
const cpuMs = (pid) => {
  try {
    const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1].split(' ');
    return (Number(fields[11]) + Number(fields[12])) * TICK_MS;
  } catch {
    return 0;
  }
};
const requestCount = async () => {
  let total = 0;
  for (const url of endpoints) {
    const text = await (await fetch(`${url}/metrics`)).text();
    for (const line of text.split('\n'))
      if (line.startsWith('grpc_server_handled_total{')) total += Number(line.slice(line.lastIndexOf(' ') + 1));
  }
  return total;
};

// --- host folders ---
const prefix = `/secrets/bench-${hex(6)}`;
const shared = hex(32);
const passphrase = randomBytes(18).toString('base64');
const env = { ...process.env, NO_COLOR: '1', SECRETS_BACKUP_PASSPHRASE: passphrase };
const hosts = [];
function makeHost(index) {
  const name = `api-${index}`;
  const root = mkdtempSync(join(tmpdir(), `secrets-bench-fleet-${name}-`));
  folders.push(root);
  writeFileSync(join(root, '.env'), `JWT_SECRET=${shared}\nSESSION_KEY=${hex(32)}\n`, { mode: 0o600 });
  writeFileSync(
    join(root, 'secrets.yaml'),
    [
      'version: 1',
      `deployment: bench-${name}`,
      'root: .',
      'env_file: .env',
      'backup: { dir: backups, passphrase_env: SECRETS_BACKUP_PASSPHRASE }',
      'fleet:',
      `  etcd: { endpoints: [${endpoints.join(', ')}] }`,
      `  prefix: ${prefix}`,
      `  host: ${name}`,
      '  apply_timeout: 60s',
      '  lock_ttl: 10s',
      'secrets:',
      '  jwt: { kind: random, env_key: JWT_SECRET, shared: true, rotate_every: 90d, after_change: ["echo x >> hook.log"] }',
      '  session: { kind: random, env_key: SESSION_KEY, rotate_every: 90d, after_change: ["echo x >> hook.log"] }',
      '',
    ].join('\n'),
  );
  return { name, root, sync: undefined };
}
function run(host, args) {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, ['--', BIN, ...args], {
      cwd: host.root,
      env,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    processes.add(child);
    let out = '';
    child.stdout.on('data', (chunk) => (out += chunk));
    child.stderr.on('data', (chunk) => (out += chunk));
    child.on('close', (code) => {
      processes.delete(child);
      resolve({ code, out });
    });
  });
}
async function must(host, args) {
  const result = await run(host, args);
  if (result.code !== 0)
    throw new Error(`${host.name}: secrets ${args.join(' ')} exited ${result.code}: ${result.out}`);
  return result;
}
async function inBatches(items, size, fn) {
  for (let i = 0; i < items.length; i += size) await Promise.all(items.slice(i, i + size).map(fn));
}
const envValue = (host, key) =>
  new RegExp(`^${key}=(\\w+)$`, 'm').exec(readFileSync(join(host.root, '.env'), 'utf8'))?.[1];

/** Joins hosts [from, to) and admits each from api-1 (admit re-encrypts to every member: one at a time). */
async function grow(to) {
  const fresh = [];
  while (hosts.length < to) {
    const host = makeHost(hosts.length + 1);
    hosts.push(host);
    fresh.push(host);
  }
  if (hosts[0] === fresh[0]) {
    await must(hosts[0], ['fleet', 'init']);
    fresh.shift();
  }
  const fingerprints = new Map();
  await inBatches(fresh, 4, async (host) => {
    const { out } = await must(host, ['fleet', 'join']);
    fingerprints.set(host.name, /fingerprint ((?:[0-9A-Fa-f]{4} ?){10})/.exec(out)[1].trim());
  });
  for (const host of fresh)
    await must(hosts[0], ['fleet', 'admit', host.name, '--fingerprint', fingerprints.get(host.name)]);
  return fresh;
}

/**
 * Starts sync --watch on every host that does not run it (yet, or any more) and resolves when each
 * has synced since its start (its <prefix>/hosts/<host> lastSync moved): its watches are set up.
 * A watcher that ended on a signal (or exit 0, which it does on SIGTERM) is started again with a
 * note: on a machine shared with other jobs a stray signal happens; any other exit is a failure.
 */
async function startSyncs() {
  for (const host of hosts) {
    if (host.sync && host.sync.exitCode === null && host.sync.signalCode === null) continue;
    if (host.sync) {
      if (host.sync.exitCode !== 0 && host.sync.signalCode === null)
        throw new Error(`${host.name}: sync --watch exited ${host.sync.exitCode}: ${host.syncOutput}`);
      console.log(
        `(${host.name}: sync --watch ended by ${host.sync.signalCode ?? 'a signal (exit 0)'}; started again)`,
      );
    }
    host.syncStarted = Date.now();
    host.sync = spawn(process.execPath, ['--', BIN, 'sync', '--watch'], {
      cwd: host.root,
      env,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    host.syncOutput = '';
    host.sync.stdout.on('data', (chunk) => (host.syncOutput += chunk));
    host.sync.stderr.on('data', (chunk) => (host.syncOutput += chunk));
    processes.add(host.sync);
  }
  const started = Date.now();
  for (;;) {
    const dump = spawnSync('etcdctl', [`--endpoints=${endpoints.join(',')}`, 'get', '--prefix', `${prefix}/hosts/`], {
      env: { ...process.env, ETCDCTL_API: '3' },
      encoding: 'utf8',
    });
    const lines = dump.stdout.split('\n');
    const lastSync = new Map();
    for (let k = 0; k + 1 < lines.length; k += 2)
      lastSync.set(lines[k].slice(lines[k].lastIndexOf('/') + 1), Date.parse(JSON.parse(lines[k + 1]).lastSync));
    const waiting = hosts.filter((host) => !(lastSync.get(host.name) >= host.syncStarted));
    if (waiting.length === 0) break;
    const dead = waiting.filter((host) => host.sync.exitCode !== null || host.sync.signalCode !== null);
    if (dead.length > 0) return startSyncs();
    if (Date.now() - started > 120_000)
      throw new Error(
        `${waiting.length} of ${hosts.length} watchers did not sync within 120 s:\n${waiting.map((host) => `${host.name}: ${host.syncOutput}`).join('\n')}`,
      );
    await sleep(250);
  }
  await sleep(1000); // start-up CPU settles on a 2-core machine
}

// --- baseline: one host rotating a per-host secret (no fleet round trip), same machine, same run ---
await grow(1);
const baseline = [];
for (let i = 0; i < ROUNDS; i++) {
  const start = performance.now();
  await must(hosts[0], ['rotate', 'session', '--yes']);
  baseline.push(performance.now() - start);
}
const baseMs = median(baseline);
console.log(`baseline: one host rotating a per-host secret: ${baseMs.toFixed(0)} ms (median of ${ROUNDS})`);
console.log(
  'hosts   rotate→all acknowledged (median)   ÷ baseline   etcd requests/rotation   per host   sync CPU/host   idle req/s',
);

let failed = false;
for (const size of SIZES) {
  await grow(size);
  await startSyncs();
  // Idle request rate with every watcher running and nothing rotating.
  const idleStart = await requestCount();
  await sleep(2000);
  const idlePerSecond = ((await requestCount()) - idleStart) / 2;
  const times = [];
  const requests = [];
  const cpu = [];
  for (let round = 0; round < ROUNDS; round++) {
    await startSyncs(); // every watcher still running
    const before = await requestCount();
    const cpuBefore = hosts.map((host) => cpuMs(host.sync.pid));
    const start = performance.now();
    const result = await run(hosts[0], ['rotate', 'jwt', '--yes']);
    const ms = performance.now() - start;
    const after = await requestCount();
    cpu.push(hosts.reduce((sum, host, i) => sum + cpuMs(host.sync.pid) - cpuBefore[i], 0) / size);
    if (result.code !== 0) throw new Error(`rotate with ${size} hosts exited ${result.code}: ${result.out}`);
    const value = envValue(hosts[0], 'JWT_SECRET');
    const behind = hosts.filter((host) => envValue(host, 'JWT_SECRET') !== value).map((host) => host.name);
    if (behind.length > 0) throw new Error(`rotate exited 0 but ${behind.join(', ')} do not hold the new value`);
    times.push(ms);
    requests.push(after - before - (idlePerSecond * ms) / 1000);
    await sleep(500);
  }
  const ms = median(times);
  const perRotation = median(requests);
  const cpuPerHost = median(cpu);
  if (size >= 50 && ms > 5000) failed = true;
  console.log(
    `${String(size).padStart(5)}${`${ms.toFixed(0)} ms`.padStart(36)}${`${(ms / baseMs).toFixed(1)}×`.padStart(13)}${perRotation.toFixed(0).padStart(25)}${(perRotation / size).toFixed(1).padStart(11)}${`${cpuPerHost.toFixed(0)} ms`.padStart(16)}${idlePerSecond.toFixed(1).padStart(13)}`,
  );
}
console.log(
  `goal: under 5 s for 50 hosts${failed ? ' — MISSED' : ''}; requests per host should stay flat as hosts grow`,
);
console.log(
  `(one machine, ${availableParallelism()} cores, load ${loadavg()[0].toFixed(1)}: every host's apply shares these cores, so the wall time grows by about sync CPU/host ÷ cores per host; on real hosts the applies run in parallel)`,
);
// Stop and reap everything started here (a SIGKILLed child nobody waits for lingers as a zombie).
await Promise.all(
  [...processes].map(
    (child) =>
      new Promise((resolve) => {
        if (child.exitCode !== null || child.signalCode !== null) return resolve();
        child.once('exit', resolve);
        child.kill('SIGTERM');
        setTimeout(() => child.kill('SIGKILL'), 3000).unref();
      }),
  ),
);
process.exit(0);
