import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import {
  accessSync,
  chmodSync,
  constants,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { request as httpsRequest } from 'node:https';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort } from './servers.js';
import { describeNeeding, hasTool } from './system-tools.js';

export interface EtcdMember {
  name: string;
  clientUrl: string;
  peerUrl: string;
  dataDir: string;
  /** The running process's pid; undefined while the member is down. */
  pid: number | undefined;
}

export interface EtcdctlResult {
  stdout: string;
  stderr: string;
  code: number | null;
}

/** PEM files made at run time in the cluster's temp folder (a throwaway CA; nothing committed). */
export interface EtcdTls {
  /** The CA that signed the server and client certificates. */
  ca: string;
  /** A client certificate and its key, signed by `ca` (the members demand one: --client-cert-auth). */
  cert: string;
  key: string;
  /** The folder they are in (the test may make more there: makeCertificateAuthority). */
  dir: string;
}

export interface EtcdCluster {
  /** Every member's client URL (http(s)://127.0.0.1:<port>), live or not: what a policy lists. */
  endpoints: string[];
  members: EtcdMember[];
  /** The --initial-cluster-token, unique per cluster (a name, nothing secret). */
  clusterId: string;
  /** With `tls: true`: the CA and the client certificate a policy (and etcdctl) uses. */
  tls: EtcdTls | undefined;
  /**
   * etcdctl (API v3) against every member's endpoint (or the ones given); TLS files and, once
   * enableAuth() ran, the root user come from the environment, never argv. `input` goes to stdin.
   */
  etcdctl(
    args: string[],
    options?: { endpoints?: string[]; timeoutMs?: number; input?: string },
  ): Promise<EtcdctlResult>;
  /**
   * Turns etcd authentication on: a root user with a password made now (kept in this process,
   * given to etcdctl through its environment), then `auth enable`. Later etcdctl calls run as root.
   */
  enableAuth(): Promise<void>;
  /**
   * SIGKILL member i and wait until it has exited; then, when the others still make a quorum, until
   * they have a leader again (a write sent while they elect one may time out, as in any Raft store).
   */
  kill(i: number, options?: { waitForLeader?: boolean }): Promise<void>;
  /** The index of the member that is the leader now. */
  leader(): Promise<number>;
  /** Start member i again on its own data folder and wait until it is healthy. */
  start(i: number): Promise<void>;
  /** Is member i running? */
  alive(i: number): boolean;
  /**
   * gRPC requests the live members have finished handling (sum of grpc_server_handled_total over
   * every live member's /metrics). A long-lived stream (watch, lease keep-alive) counts once, when
   * it ends; streamMessages() counts the messages sent on them.
   */
  requestCount(): Promise<number>;
  /** Messages received by the live members on gRPC streams (watch creates, lease keep-alives). */
  streamMessages(): Promise<number>;
  /** What member i printed (the last 64 KiB), for failure messages. */
  output(i: number): string;
  /** Stops every member (SIGKILL) and removes the data folder. Idempotent; also runs at exit. */
  stop(): Promise<void>;
}

const ETCD = ['/usr/bin/etcd', '/usr/local/bin/etcd'].find((path) => existsSync(path)) ?? 'etcd';
const ETCDCTL = ['/usr/bin/etcdctl', '/usr/local/bin/etcdctl'].find((path) => existsSync(path)) ?? 'etcdctl';
/** setpriv --pdeathsig: an etcd whose test process died (a worker killed on timeout) dies with it. */
const SETPRIV = ['/usr/bin/setpriv', '/bin/setpriv'].find((path) => existsSync(path));

export function hasEtcd(): boolean {
  return hasTool('etcd') && hasTool('etcdctl');
}

/** A suite that needs etcd and etcdctl (CI=true: a missing one fails; elsewhere the suite is skipped). */
export function describeWithEtcd(name: string, body: () => void): void {
  describeNeeding(
    ['etcd', 'etcdctl'].filter((tool) => !hasTool(tool)),
    name,
    body,
  );
}

const running = new Set<{ killNow(): void }>();
process.once('exit', () => {
  for (const cluster of running) cluster.killNow();
});

/** tmpfs when there is one: etcd fsyncs every write, which a loaded disk makes slow and jumpy. */
function dataRoot(): string {
  try {
    accessSync('/dev/shm', constants.W_OK);
    return '/dev/shm';
  } catch {
    return tmpdir();
  }
}

async function distinctPorts(count: number): Promise<number[]> {
  const ports = new Set<number>();
  while (ports.size < count) ports.add(await freePort());
  return [...ports];
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** A GET to a member's client port; with TLS through the client certificate the members demand. */
async function httpGet(url: string, timeoutMs = 1_000, tls?: EtcdTls): Promise<string | undefined> {
  if (tls)
    return new Promise((resolve) => {
      const req = httpsRequest(
        url,
        { ca: readFileSync(tls.ca), cert: readFileSync(tls.cert), key: readFileSync(tls.key), timeout: timeoutMs },
        (response) => {
          let body = '';
          response.on('data', (chunk: Buffer) => (body += chunk.toString('utf8')));
          response.on('end', () => resolve(response.statusCode === 200 ? body : undefined));
          response.on('error', () => resolve(undefined));
        },
      );
      req.on('timeout', () => req.destroy());
      req.on('error', () => resolve(undefined));
      req.end();
    });
  try {
    const response = await fetch(url, { signal: AbortSignal.timeout(timeoutMs) });
    return response.ok ? await response.text() : undefined;
  } catch {
    return undefined;
  }
}

/** /health answers true only when the member sees a leader and a quorum read succeeds. */
async function healthy(clientUrl: string, tls?: EtcdTls): Promise<boolean> {
  const body = await httpGet(`${clientUrl}/health`, 1_000, tls);
  if (!body) return false;
  try {
    return (JSON.parse(body) as { health?: string }).health === 'true';
  } catch {
    return false;
  }
}

function sumMetric(text: string, name: string): number {
  let total = 0;
  for (const line of text.split('\n')) {
    if (!line.startsWith(`${name}{`) && !line.startsWith(`${name} `)) continue;
    const value = Number(line.slice(line.lastIndexOf(' ') + 1));
    if (Number.isFinite(value)) total += value;
  }
  return total;
}

function openssl(args: string[], cwd: string): void {
  execFileSync('openssl', args, { cwd, stdio: ['ignore', 'ignore', 'pipe'] });
}

/** A throwaway CA made now in `dir`: <name>.pem and <name>-key.pem (EC P-256: fast to make). */
export function makeCertificateAuthority(dir: string, name = 'ca'): { cert: string; key: string } {
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  const key = join(dir, `${name}-key.pem`);
  const cert = join(dir, `${name}.pem`);
  openssl(['ecparam', '-name', 'prime256v1', '-genkey', '-noout', '-out', key], dir);
  openssl(['req', '-x509', '-new', '-key', key, '-subj', `/CN=secrets test ${name}`, '-days', '2', '-out', cert], dir);
  return { cert, key };
}

/** A certificate for `name` signed by the CA, with the given extensions (subjectAltName, extendedKeyUsage). */
function issueCertificate(dir: string, ca: { cert: string; key: string }, name: string, extensions: string[]) {
  const key = join(dir, `${name}-key.pem`);
  const csr = join(dir, `${name}.csr`);
  const cert = join(dir, `${name}.pem`);
  const ext = join(dir, `${name}.ext`);
  openssl(['ecparam', '-name', 'prime256v1', '-genkey', '-noout', '-out', key], dir);
  openssl(['req', '-new', '-key', key, '-subj', `/CN=${name}`, '-out', csr], dir);
  writeFileSync(ext, `${extensions.join('\n')}\n`);
  // -set_serial: no CA serial file to keep; the name's hash is unique enough for a throwaway CA.
  const serial = `0x${randomBytes(8).toString('hex')}`;
  openssl(
    [
      'x509',
      '-req',
      '-in',
      csr,
      '-CA',
      ca.cert,
      '-CAkey',
      ca.key,
      '-set_serial',
      serial,
      '-days',
      '2',
      '-extfile',
      ext,
      '-out',
      cert,
    ],
    dir,
  );
  return { cert, key };
}

/** A CA, a server certificate for 127.0.0.1 and a client certificate, all made now in `dir`. */
function makeTls(dir: string): EtcdTls & { serverCert: string; serverKey: string } {
  const ca = makeCertificateAuthority(dir);
  const server = issueCertificate(dir, ca, 'server', [
    'subjectAltName = IP:127.0.0.1',
    'extendedKeyUsage = serverAuth',
  ]);
  const client = issueCertificate(dir, ca, 'client', ['extendedKeyUsage = clientAuth']);
  return { ca: ca.cert, cert: client.cert, key: client.key, dir, serverCert: server.cert, serverKey: server.key };
}

/**
 * A real etcd cluster of `members` members on 127.0.0.1 (distinct free ports, data in a temp
 * folder, a unique cluster token, fast elections), returned once it has a leader and every member
 * is healthy. Start it in beforeAll and stop it in afterAll: stop() is idempotent and also runs at
 * process exit, and each member dies with the test process, so a failing test never leaks one.
 */
export async function startEtcdCluster({
  members: count = 3,
  tls: withTls = false,
}: {
  members?: number;
  /** https on the client port, a client certificate required (peers stay http): see EtcdCluster.tls. */
  tls?: boolean;
} = {}): Promise<EtcdCluster> {
  const root = mkdtempSync(join(dataRoot(), 'secrets-etcd-'));
  chmodSync(root, 0o700);
  const tlsFiles = withTls ? makeTls(join(root, 'tls')) : undefined;
  const tls: EtcdTls | undefined = tlsFiles && {
    ca: tlsFiles.ca,
    cert: tlsFiles.cert,
    key: tlsFiles.key,
    dir: tlsFiles.dir,
  };
  const clientScheme = tls ? 'https' : 'http';
  let rootUser: string | undefined;
  const clusterId = `secrets-test-${randomBytes(6).toString('hex')}`;
  const ports = await distinctPorts(count * 2);
  const members: EtcdMember[] = Array.from({ length: count }, (_, i) => ({
    name: `m${i + 1}`,
    clientUrl: `${clientScheme}://127.0.0.1:${ports[i * 2]}`,
    peerUrl: `http://127.0.0.1:${ports[i * 2 + 1]}`,
    dataDir: join(root, `m${i + 1}.etcd`),
    pid: undefined,
  }));
  const initialCluster = members.map((member) => `${member.name}=${member.peerUrl}`).join(',');
  const children: Array<ChildProcess | undefined> = members.map(() => undefined);
  const exits: Array<Promise<void>> = members.map(() => Promise.resolve());
  const outputs: string[] = members.map(() => '');
  let stopped = false;

  const args = (member: EtcdMember) => [
    `--name=${member.name}`,
    `--data-dir=${member.dataDir}`,
    `--listen-client-urls=${member.clientUrl}`,
    `--advertise-client-urls=${member.clientUrl}`,
    `--listen-peer-urls=${member.peerUrl}`,
    `--initial-advertise-peer-urls=${member.peerUrl}`,
    `--initial-cluster=${initialCluster}`,
    `--initial-cluster-token=${clusterId}`,
    // Ignored once the data folder exists, so a restarted member rejoins with its own state.
    '--initial-cluster-state=new',
    // Fast elections: a killed leader is replaced in well under a second.
    '--heartbeat-interval=50',
    '--election-timeout=500',
    '--logger=zap',
    '--log-outputs=stderr',
    '--log-level=warn',
    ...(tlsFiles
      ? [
          `--cert-file=${tlsFiles.serverCert}`,
          `--key-file=${tlsFiles.serverKey}`,
          `--trusted-ca-file=${tlsFiles.ca}`,
          '--client-cert-auth',
        ]
      : []),
  ];

  const launch = (i: number) => {
    const member = members[i]!;
    const command = SETPRIV ? [SETPRIV, '--pdeathsig', 'KILL', ETCD, ...args(member)] : [ETCD, ...args(member)];
    const child = spawn(command[0]!, command.slice(1), { stdio: ['ignore', 'pipe', 'pipe'] });
    const keep = (chunk: Buffer) => {
      outputs[i] = (outputs[i]! + chunk.toString('utf8')).slice(-65_536);
    };
    child.stdout!.on('data', keep);
    child.stderr!.on('data', keep);
    child.on('error', (error) => keep(Buffer.from(`spawn failed: ${error.message}\n`)));
    exits[i] = new Promise<void>((resolve) =>
      child.once('exit', () => {
        if (children[i] === child) member.pid = undefined;
        resolve();
      }),
    );
    children[i] = child;
    member.pid = child.pid;
  };

  const isAlive = (i: number) => {
    const child = children[i];
    return !!child && child.exitCode === null && child.signalCode === null;
  };

  const waitHealthy = async (indexes: number[], timeoutMs: number) => {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const dead = indexes.filter((i) => !isAlive(i));
      if (dead.length > 0)
        throw new Error(`etcd member ${members[dead[0]!]!.name} exited: ${outputs[dead[0]!]!.slice(-2_000)}`);
      const states = await Promise.all(indexes.map((i) => healthy(members[i]!.clientUrl, tls)));
      if (states.every(Boolean)) return;
      if (Date.now() > deadline) {
        const sick = indexes.filter((_, k) => !states[k]).map((i) => members[i]!.name);
        throw new Error(`etcd members ${sick.join(', ')} not healthy within ${timeoutMs} ms`);
      }
      await sleep(50);
    }
  };

  const killMember = async (i: number) => {
    const child = children[i];
    if (child && isAlive(i)) child.kill('SIGKILL');
    await exits[i];
  };

  const live = () => members.map((_, i) => i).filter(isAlive);

  const liveMetrics = async () =>
    (
      await Promise.all(
        members.map((member, i) => (isAlive(i) ? httpGet(`${member.clientUrl}/metrics`, 3_000, tls) : '')),
      )
    )
      .filter((text): text is string => text !== undefined)
      .join('\n');

  const handle = {
    killNow() {
      for (const child of children) if (child && child.exitCode === null) child.kill('SIGKILL');
      rmSync(root, { recursive: true, force: true });
    },
  };

  const cluster: EtcdCluster = {
    endpoints: members.map((member) => member.clientUrl),
    members,
    clusterId,
    tls,
    etcdctl(commandArgs, options = {}) {
      const endpoints = options.endpoints ?? cluster.endpoints;
      // etcdctl reads any flag from ETCDCTL_<FLAG>: the root password stays out of argv.
      const env: Record<string, string | undefined> = { ...process.env, ETCDCTL_API: '3' };
      if (tls) Object.assign(env, { ETCDCTL_CACERT: tls.ca, ETCDCTL_CERT: tls.cert, ETCDCTL_KEY: tls.key });
      if (rootUser) env.ETCDCTL_USER = rootUser;
      return new Promise((resolve, reject) => {
        const child = spawn(
          ETCDCTL,
          [`--endpoints=${endpoints.join(',')}`, '--dial-timeout=2s', '--command-timeout=5s', ...commandArgs],
          { env, stdio: [options.input === undefined ? 'ignore' : 'pipe', 'pipe', 'pipe'] },
        );
        if (options.input !== undefined) child.stdin!.end(options.input);
        let stdout = '';
        let stderr = '';
        child.stdout!.on('data', (chunk: Buffer) => (stdout += chunk.toString('utf8')));
        child.stderr!.on('data', (chunk: Buffer) => (stderr += chunk.toString('utf8')));
        const timer = setTimeout(() => child.kill('SIGKILL'), options.timeoutMs ?? 20_000);
        child.on('error', reject);
        child.on('close', (code) => {
          clearTimeout(timer);
          resolve({ stdout, stderr, code });
        });
      });
    },
    async enableAuth() {
      if (rootUser) return;
      const password = randomBytes(18).toString('base64url');
      const steps: Array<[string[], string?]> = [
        // --interactive=false: the password is read from stdin, not taken from argv.
        [['user', 'add', 'root', '--interactive=false'], `${password}\n`],
        [['user', 'grant-role', 'root', 'root']],
        [['auth', 'enable']],
      ];
      for (const [commandArgs, input] of steps) {
        const result = await cluster.etcdctl(commandArgs, input === undefined ? {} : { input });
        if (result.code !== 0) throw new Error(`etcdctl ${commandArgs.join(' ')}: ${result.stderr}${result.stdout}`);
      }
      rootUser = `root:${password}`;
    },
    async kill(i, { waitForLeader = true } = {}) {
      await killMember(i);
      const others = live();
      if (waitForLeader && others.length > count / 2) await waitHealthy(others, 20_000);
    },
    async leader() {
      const status = await cluster.etcdctl(['endpoint', 'status', '-w', 'json'], {
        endpoints: live().map((i) => members[i]!.clientUrl),
      });
      const rows = JSON.parse(status.stdout || '[]') as Array<{
        Endpoint: string;
        Status: { leader: number | string; header: { member_id: number | string } };
      }>;
      const row = rows.find((entry) => String(entry.Status.leader) === String(entry.Status.header.member_id));
      const index = row ? members.findIndex((member) => member.clientUrl === row.Endpoint) : -1;
      if (index < 0) throw new Error(`no etcd leader: ${status.stderr || status.stdout}`);
      return index;
    },
    async start(i) {
      if (stopped) throw new Error('the etcd cluster was stopped');
      if (isAlive(i)) return;
      launch(i);
      await waitHealthy([i], 20_000);
    },
    alive: isAlive,
    async requestCount() {
      return sumMetric(await liveMetrics(), 'grpc_server_handled_total');
    },
    async streamMessages() {
      const text = (await liveMetrics())
        .split('\n')
        .filter((line) => !line.includes('grpc_type="unary"'))
        .join('\n');
      return sumMetric(text, 'grpc_server_msg_received_total');
    },
    output: (i) => outputs[i] ?? '',
    async stop() {
      if (stopped) return;
      stopped = true;
      running.delete(handle);
      await Promise.all(members.map((_, i) => killMember(i)));
      rmSync(root, { recursive: true, force: true });
    },
  };

  running.add(handle);
  try {
    for (let i = 0; i < count; i++) launch(i);
    await waitHealthy(
      members.map((_, i) => i),
      30_000,
    );
  } catch (error) {
    await cluster.stop();
    throw error;
  }
  return cluster;
}
