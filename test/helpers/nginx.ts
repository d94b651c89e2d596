import { execFileSync, spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { chmodSync, chownSync, mkdirSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { afterAll, afterEach } from 'vitest';
import { stringify } from 'yaml';
import { makeDeployment, type TempDeployment } from './deployment.js';
import { fakeAlnum } from './fake-secrets.js';
import { freePort } from './servers.js';
import { tempDir } from './temp-dir.js';

// Debian puts nginx in /usr/sbin, which a non-login PATH may lack; hasTool() must find it too.
for (const dir of ['/usr/sbin', '/sbin']) {
  if (!(process.env.PATH ?? '').split(':').includes(dir)) process.env.PATH = `${process.env.PATH ?? ''}:${dir}`;
}

export interface NginxInstance {
  /** The temp prefix holding nginx.conf, pid, logs, temp folders and html/. */
  prefix: string;
  confPath: string;
  port: number;
  /** http://127.0.0.1:PORT/ — the location behind auth_basic. */
  url: string;
  /** The unprivileged user and group the workers run as (when the tests run as root). */
  worker: { user: string; group: string } | undefined;
  /** Shell commands for policy hooks: `nginx -t` and `nginx -s reload` against this instance. */
  testCommand: string;
  reloadCommand: string;
  reload(): void;
  errorLog(): string;
  stop(): Promise<void>;
}

const running = new Set<NginxInstance>();

async function stopAll(): Promise<void> {
  await Promise.all([...running].map((instance) => instance.stop()));
}
// Always stopped, whatever the test did: a leaked nginx would hold a port and a 2-core machine.
afterEach(stopAll);
afterAll(stopAll);
process.once('exit', () => {
  for (const instance of running) void instance.stop();
});

/** nobody's primary group by name (nogroup on Debian, nobody elsewhere). */
function unprivilegedWorker(): { user: string; group: string } | undefined {
  if (process.getuid?.() !== 0) return undefined;
  const group = spawnSync('id', ['-gn', 'nobody'], { encoding: 'utf8' }).stdout.trim();
  return { user: 'nobody', group: group || 'nogroup' };
}

function nginxConf(
  prefix: string,
  port: number,
  userFile: string,
  worker: { user: string; group: string } | undefined,
  accessLog?: string,
): string {
  return `${worker ? `user ${worker.user} ${worker.group};\n` : ''}worker_processes 1;
daemon off;
master_process on;
pid ${prefix}/nginx.pid;
error_log ${prefix}/logs/error.log warn;
events { worker_connections 128; }
http {
  ${accessLog ? `access_log ${accessLog} combined;` : 'access_log off;'}
  client_body_temp_path ${prefix}/tmp/body;
  proxy_temp_path ${prefix}/tmp/proxy;
  fastcgi_temp_path ${prefix}/tmp/fastcgi;
  uwsgi_temp_path ${prefix}/tmp/uwsgi;
  scgi_temp_path ${prefix}/tmp/scgi;
  server {
    listen 127.0.0.1:${port};
    root ${prefix}/html;
    # A static file, not "return 200": return runs before the access phase and would skip auth.
    location / {
      auth_basic "dashboard";
      auth_basic_user_file ${userFile};
    }
    location /open/ {
      auth_basic off;
    }
  }
}
`;
}

async function waitForPort(port: number, child: ChildProcess, errorLog: () => string): Promise<void> {
  const deadline = Date.now() + 10_000;
  while (Date.now() < deadline) {
    if (child.exitCode !== null) throw new Error(`nginx exited with ${child.exitCode}: ${errorLog()}`);
    try {
      const answer = await fetch(`http://127.0.0.1:${port}/open/index.html`);
      await answer.arrayBuffer();
      return;
    } catch {
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
  }
  throw new Error(`nginx did not listen on ${port} within 10s: ${errorLog()}`);
}

/**
 * A real nginx on 127.0.0.1 (a free port) in a temp prefix, guarding `/` with auth_basic and the
 * given htpasswd file; `/open/` needs no password (the unauthenticated baseline). When the tests
 * run as root, the workers run as nobody: the file must be readable by that group, as in production.
 * Stopped after each test (and at exit) by this module.
 */
export async function startNginx(options: { userFile: string; accessLog?: string }): Promise<NginxInstance> {
  const prefix = tempDir('secrets-nginx-');
  // The workers (nobody) must traverse the prefix and read html/.
  chmodSync(prefix, 0o755);
  for (const dir of ['logs', 'tmp', 'html', 'html/open'])
    mkdirSync(join(prefix, dir), { recursive: true, mode: 0o755 });
  writeFileSync(join(prefix, 'html', 'index.html'), 'dashboard\n', { mode: 0o644 });
  writeFileSync(join(prefix, 'html', 'open', 'index.html'), 'open\n', { mode: 0o644 });
  const port = await freePort();
  const worker = unprivilegedWorker();
  const confPath = join(prefix, 'nginx.conf');
  writeFileSync(confPath, nginxConf(prefix, port, options.userFile, worker, options.accessLog), { mode: 0o644 });
  const errorLogPath = join(prefix, 'logs', 'error.log');
  const args = ['-p', prefix, '-c', confPath, '-e', errorLogPath];
  const errorLog = () => spawnSync('cat', [errorLogPath], { encoding: 'utf8' }).stdout;

  const child = spawn('nginx', args, { stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  child.stderr!.on('data', (chunk: Buffer) => (stderr += chunk.toString('utf8')));
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));

  const instance: NginxInstance = {
    prefix,
    confPath,
    port,
    url: `http://127.0.0.1:${port}/`,
    worker,
    testCommand: `nginx -t -q ${args.join(' ')}`,
    reloadCommand: `nginx -s reload ${args.join(' ')}`,
    reload() {
      const result = spawnSync('nginx', ['-s', 'reload', ...args], { encoding: 'utf8' });
      if (result.status !== 0) throw new Error(`nginx -s reload failed: ${result.stderr}`);
    },
    errorLog: () => `${stderr}${errorLog()}`,
    async stop() {
      if (!running.delete(instance)) return;
      if (child.exitCode === null && child.signalCode === null) {
        // SIGTERM: fast shutdown of master and workers; SIGKILL if it hangs.
        child.kill('SIGTERM');
        const timer = setTimeout(() => child.kill('SIGKILL'), 5_000);
        await exited;
        clearTimeout(timer);
      }
    },
  };
  running.add(instance);
  try {
    await waitForPort(port, child, instance.errorLog);
  } catch (error) {
    await instance.stop();
    throw error;
  }
  return instance;
}

/**
 * GET with optional Basic credentials, on a fresh connection; returns the status. Right after
 * `nginx -s reload` a connection the old worker accepted may be closed as it exits gracefully
 * ("other side closed"): that is not an answer, so the request is sent again (a few times, briefly).
 * Any HTTP status is returned as it is.
 */
export async function basicAuthStatus(url: string, credentials?: { user: string; password: string }): Promise<number> {
  const headers: Record<string, string> = { connection: 'close' };
  if (credentials)
    headers.authorization = `Basic ${Buffer.from(`${credentials.user}:${credentials.password}`).toString('base64')}`;
  for (let attempt = 1; ; attempt++) {
    try {
      const answer = await fetch(url, { headers });
      await answer.arrayBuffer();
      return answer.status;
    } catch (error) {
      if (attempt >= 5) throw error;
      await new Promise((resolve) => setTimeout(resolve, 200));
    }
  }
}

/** The numeric id of a group, by name. */
export function groupId(name: string): number {
  return Number(execFileSync('getent', ['group', name], { encoding: 'utf8' }).split(':')[2]);
}

/**
 * Lets nginx's unprivileged worker reach an htpasswd file in a temp deployment: the folders on
 * the way become 755 and the file root:<worker group> (or root:root, to show nginx's 500).
 */
export function grantWorkerRead(
  nginx: NginxInstance,
  root: string,
  file: string,
  group: 'worker' | 'root' = 'worker',
): void {
  chmodSync(root, 0o755);
  chmodSync(dirname(file), 0o755);
  if (nginx.worker) chownSync(file, 0, group === 'root' ? 0 : groupId(nginx.worker.group));
}

/** A dashboard site: the deployment, its nginx and htpasswd file, and each user's password. */
export interface Dashboard<User extends string> {
  deployment: TempDeployment;
  nginx: NginxInstance;
  /** The htpasswd file nginx reads. */
  file: string;
  /** Its content before the test touched it. */
  original: string;
  passwords: Record<User, string>;
}

/**
 * The dashboard behind a real nginx that the htpasswd kind rotates: a temp deployment whose
 * `nginx/.htpasswd` (mode 640, root:<worker group>, a comment line first) holds one line per user
 * written by Apache's own `htpasswd` with that user's flags (test only: the password is in its
 * argv here), nginx guarding `/` with it, and a policy with one htpasswd secret for `admin`
 * whose hooks test and reload this nginx and whose probe asks it.
 */
export async function startDashboard<User extends string = 'alice' | 'admin'>(
  options: {
    /** The secret's id in the policy. */
    id?: string;
    /** Users in file order and the `htpasswd -n` flags of their line; admin is the rotated one. */
    users?: Record<User, string[]>;
    /** Merged into the probe (url: this nginx, timeout 5s). */
    probe?: Record<string, unknown>;
    /** More fields of the secret (mode, deliver, …). */
    spec?: Record<string, unknown>;
    /** More top-level fields of the policy (backup, …). */
    policy?: Record<string, unknown>;
    /** Who may read the file: nginx's worker group (as in production), or root only (nginx then answers 500). */
    fileGroup?: 'worker' | 'root';
  } = {},
): Promise<Dashboard<User>> {
  const users = options.users ?? ({ alice: ['-B', '-C', '5'], admin: ['-B', '-C', '5'] } as Record<User, string[]>);
  const passwords = {} as Record<User, string>;
  const lines = ['# dashboard users'];
  for (const [user, flags] of Object.entries(users) as Array<[User, string[]]>) {
    passwords[user] = fakeAlnum(24);
    lines.push(execFileSync('htpasswd', ['-nb', ...flags, user, passwords[user]], { encoding: 'utf8' }).trim());
  }
  const original = `${lines.join('\n')}\n`;
  const deployment = makeDeployment({
    files: { 'nginx/.htpasswd': { content: original, mode: 0o640 } },
    policy: 'version: 1\ndeployment: placeholder\nsecrets: {}\n',
  });
  const file = deployment.path('nginx/.htpasswd');
  const nginx = await startNginx({ userFile: file });
  // nginx's worker (nobody) walks into the deployment and reads the file through its group.
  grantWorkerRead(nginx, deployment.root, file, options.fileGroup ?? 'worker');
  writeFileSync(
    deployment.policyPath,
    stringify({
      version: 1,
      deployment: 'mt5-crs',
      ...options.policy,
      secrets: {
        [options.id ?? 'dashboard']: {
          kind: 'htpasswd',
          rotate_every: '90d',
          file: 'nginx/.htpasswd',
          user: 'admin',
          bcrypt_cost: 5,
          ...options.spec,
          after_change: [nginx.testCommand, nginx.reloadCommand],
          probe: { url: nginx.url, timeout: '5s', ...options.probe },
        },
      },
    }),
  );
  return { deployment, nginx, file, original, passwords };
}
