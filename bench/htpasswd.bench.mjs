#!/usr/bin/env node
// What a bcrypt cost costs behind nginx Basic Auth. nginx re-hashes the password on EVERY request
// (it caches nothing, and a wrong password costs the same as a right one), so the cost is paid in
// latency and CPU per request, by users and by anyone hammering the login alike.
//
// Starts a real nginx on 127.0.0.1 (temp prefix, free port, 2 workers), then for costs 5, 8, 10
// and 12 measures sequential latency (one client, keep-alive) and throughput (4 concurrent clients)
// with the right password and with a wrong one, against unauthenticated requests to the same
// server measured in the same run. The ratios are what carry over to another machine.
import { spawn, spawnSync } from 'node:child_process';
import { chmodSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { cpus, tmpdir } from 'node:os';
import { join } from 'node:path';
import { bcryptHash } from '../dist/core/bcrypt.js';
import { generatePassword } from '../dist/core/password.js';

const COSTS = [5, 8, 10, 12];
const SECONDS = Number(process.env.BENCH_SECONDS ?? 3);
const CONCURRENCY = 4;

for (const dir of ['/usr/sbin', '/sbin'])
  if (!(process.env.PATH ?? '').split(':').includes(dir)) process.env.PATH += `:${dir}`;
if (spawnSync('sh', ['-c', 'command -v nginx']).status !== 0) {
  console.log('nginx not installed (apt-get install -y nginx); skipped');
  process.exit(0);
}

const freePort = () =>
  new Promise((resolve) => {
    const server = createServer().listen(0, '127.0.0.1', () => {
      const { port } = server.address();
      server.close(() => resolve(port));
    });
  });

const prefix = mkdtempSync(join(tmpdir(), 'secrets-bench-nginx-'));
chmodSync(prefix, 0o755);
for (const dir of ['logs', 'tmp', 'html/open']) mkdirSync(join(prefix, dir), { recursive: true, mode: 0o755 });
writeFileSync(join(prefix, 'html/index.html'), 'dashboard\n', { mode: 0o644 });
writeFileSync(join(prefix, 'html/open/index.html'), 'open\n', { mode: 0o644 });
const userFile = join(prefix, 'htpasswd');
const port = await freePort();
const asRoot = process.getuid?.() === 0;
const group = asRoot ? spawnSync('id', ['-gn', 'nobody'], { encoding: 'utf8' }).stdout.trim() || 'nogroup' : '';
const conf = join(prefix, 'nginx.conf');
writeFileSync(
  conf,
  `${asRoot ? `user nobody ${group};\n` : ''}worker_processes ${Math.min(2, cpus().length)};
daemon off;
pid ${prefix}/nginx.pid;
error_log ${prefix}/logs/error.log warn;
events { worker_connections 256; }
http {
  access_log off;
  client_body_temp_path ${prefix}/tmp/body; proxy_temp_path ${prefix}/tmp/proxy;
  fastcgi_temp_path ${prefix}/tmp/fastcgi; uwsgi_temp_path ${prefix}/tmp/uwsgi; scgi_temp_path ${prefix}/tmp/scgi;
  server {
    listen 127.0.0.1:${port};
    root ${prefix}/html;
    location / { auth_basic "bench"; auth_basic_user_file ${userFile}; }
    location /open/ { auth_basic off; }
  }
}
`,
);
const nginx = spawn('nginx', ['-p', prefix, '-c', conf, '-e', join(prefix, 'logs/error.log')], { stdio: 'inherit' });
const stop = () => {
  if (nginx.exitCode === null) nginx.kill('SIGTERM');
};
process.on('exit', () => {
  stop();
  rmSync(prefix, { recursive: true, force: true });
});
process.on('SIGINT', () => process.exit(130));

const base = `http://127.0.0.1:${port}`;
for (let attempt = 0; ; attempt++) {
  try {
    await (await fetch(`${base}/open/`)).arrayBuffer();
    break;
  } catch (error) {
    if (attempt > 200 || nginx.exitCode !== null)
      throw new Error(`nginx did not start: ${readFileSync(join(prefix, 'logs/error.log'), 'utf8')}`, { cause: error });
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

// A file, not "/": "/" goes through the index module's internal redirect, and auth_basic runs
// again for the redirected request — two bcrypt hashes for one page.
const PROTECTED = '/index.html';
const basic = (password) => ({ authorization: `Basic ${Buffer.from(`admin:${password}`).toString('base64')}` });

/** CPU seconds (user + system) the nginx workers have used so far; load-independent, unlike wall time. */
function workerCpuSeconds() {
  const children = readFileSync(`/proc/${nginx.pid}/task/${nginx.pid}/children`, 'utf8')
    .trim()
    .split(/\s+/)
    .filter(Boolean);
  let ticks = 0;
  for (const pid of children) {
    const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1].split(' ');
    ticks += Number(fields[11]) + Number(fields[12]); // utime, stime (fields 14 and 15 of stat)
  }
  return ticks / 100; // USER_HZ is 100 on Linux
}

const median = (values) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)];

async function timed(path, headers, expected) {
  const start = performance.now();
  const answer = await fetch(`${base}${path}`, { headers });
  await answer.arrayBuffer();
  if (answer.status !== expected) throw new Error(`${path}: got ${answer.status}, expected ${expected}`);
  return performance.now() - start;
}

/**
 * Latency as one user sees it: baseline, right password and wrong password requests interleaved,
 * one at a time, so that whatever else the machine is doing weighs on all three alike.
 */
async function latencies(right, wrong) {
  const times = { base: [], right: [], wrong: [] };
  const until = performance.now() + SECONDS * 1000;
  while (performance.now() < until || times.right.length < 5) {
    times.base.push(await timed('/open/index.html', {}, 200));
    times.right.push(await timed(PROTECTED, right, 200));
    times.wrong.push(await timed(PROTECTED, wrong, 401));
  }
  return { base: median(times.base), right: median(times.right), wrong: median(times.wrong) };
}

/** CONCURRENCY clients for SECONDS: requests per second, and worker CPU milliseconds per request. */
async function throughput(path, headers) {
  let done = 0;
  const cpuBefore = workerCpuSeconds();
  const until = performance.now() + SECONDS * 1000;
  const start = performance.now();
  await Promise.all(
    Array.from({ length: CONCURRENCY }, async () => {
      while (performance.now() < until) {
        await (await fetch(`${base}${path}`, { headers })).arrayBuffer();
        done++;
      }
    }),
  );
  return { rate: done / ((performance.now() - start) / 1000), cpuMs: ((workerCpuSeconds() - cpuBefore) * 1000) / done };
}

const rows = [];
const baseline = await throughput('/open/index.html', {});
const baseLatencies = [];
for (const cost of COSTS) {
  const password = generatePassword(24);
  writeFileSync(userFile, `admin:${await bcryptHash(password, cost)}\n`, { mode: 0o644 });
  const right = basic(password.reveal());
  const measured = await latencies(right, basic(generatePassword(24).reveal()));
  baseLatencies.push(measured.base);
  rows.push({ label: `bcrypt cost ${cost}`, ...measured, ...(await throughput(PROTECTED, right)) });
}
stop();
const baseLatency = median(baseLatencies);
rows.unshift({ label: 'no auth (baseline)', base: baseLatency, right: baseLatency, wrong: undefined, ...baseline });

const fmt = (value, digits = 1) => value.toFixed(digits);
console.log(
  `nginx ${spawnSync('nginx', ['-v'], { encoding: 'utf8' }).stderr.trim().replace('nginx version: ', '')}, ${cpus().length} cores (${cpus()[0]?.model.trim()}), ${Math.min(2, cpus().length)} workers, ${SECONDS}s per figure`,
);
console.log('');
// Worker CPU per request is the figure that survives a busy machine (wall-clock latency does not);
// the ceiling is what the cores could serve if they did nothing else.
const cores = Math.min(2, cpus().length);
console.log(
  '| auth | worker CPU / request | × no auth | ceiling on ' +
    cores +
    ' cores | median latency | × no auth (same rounds) | wrong password | measured req/s (4 clients) |',
);
console.log('|---|---:|---:|---:|---:|---:|---:|---:|');
for (const row of rows) {
  console.log(
    `| ${row.label} | ${fmt(row.cpuMs, 2)} ms | ${fmt(row.cpuMs / baseline.cpuMs)}× | ${fmt((cores * 1000) / row.cpuMs, 0)} req/s | ${fmt(row.right, 2)} ms | ${fmt(row.right / row.base)}× | ${row.wrong === undefined ? '—' : `${fmt(row.wrong, 2)} ms`} | ${fmt(row.rate, 0)} |`,
  );
}
