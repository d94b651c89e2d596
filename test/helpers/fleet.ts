import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { chmodSync, existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach } from 'vitest';
import { stringify } from 'yaml';
import { envValue, parseDotenv } from '../../src/core/dotenv.js';
import { BIN, runSecrets, type CliResult } from './cli.js';
import type { EtcdCluster } from './etcd.js';
import { fakeHex } from './fake-secrets.js';
import { BACKUP_ENV, BACKUP_POLICY } from './rotation.js';

/** The shared secret every test fleet has: a random key, one line appended to hook.log per hook run. */
export const SHARED_ID = 'jwt';
export const SHARED_KEY = 'JWT_SECRET';
/** A per-host secret beside it (no `shared`): each host its own value and its own local-hook.log. */
export const LOCAL_ID = 'session';
export const LOCAL_KEY = 'SESSION_KEY';

export interface FleetHost {
  name: string;
  root: string;
  policyPath: string;
  path(relative: string): string;
  /** The .env text as it is now. */
  env(): string;
  /** One key's value in .env now (default: the shared key). */
  value(key?: string): string | undefined;
  /** How many times the shared secret's after_change hook ran here (lines in hook.log). */
  hookRuns(): number;
  /** How many times the per-host secret's hook ran here. */
  localHookRuns(): number;
  /** bin/secrets in this host folder, with the backup passphrase in its environment. */
  run(args: string[], options?: Parameters<typeof runSecrets>[1]): Promise<CliResult>;
  /** Starts `secrets sync --watch` here as a background process (killed at the end of the test). */
  startSync(options?: { env?: Record<string, string> }): SyncProcess;
  /** The running `sync --watch`, if any. */
  sync: SyncProcess | undefined;
}

export interface SyncProcess {
  child: ChildProcess;
  output(): string;
  exited(): boolean;
  /** Resolves when the output matches `pattern` (rejects after timeoutMs with the output so far). */
  waitForOutput(pattern: RegExp, timeoutMs?: number): Promise<void>;
  /** SIGTERM, then SIGKILL after 3 s; resolves with the exit code (null when killed by a signal). */
  stop(): Promise<number | null>;
}

export interface Fleet {
  cluster: EtcdCluster;
  prefix: string;
  hosts: FleetHost[];
  /** The value every host's .env held before the fleet was made (shared secret). */
  initialShared: string;
  /** `fleet init` on the first host, then `fleet join` + `fleet admit --fingerprint` + `sync` for the others. */
  setUp(): Promise<{ fingerprints: Record<string, string> }>;
  /**
   * Starts `sync --watch` on the given hosts (default every host: the systemd unit runs on each) and
   * resolves once each has synced since (its <prefix>/hosts/<host> lastSync moved): its watches are
   * set up then, so a rotation's apply window does not include node's start-up on a loaded machine.
   */
  startSyncs(hosts?: FleetHost[]): Promise<SyncProcess[]>;
  /** `fleet status --json` from a host, parsed. */
  status(from?: FleetHost): Promise<FleetStatus>;
  /** Every key under the prefix as etcdctl prints it (keys and raw values). */
  rawDump(): Promise<string>;
  /** One key's raw value under the prefix (`secrets/jwt` → <prefix>/secrets/jwt); undefined when absent. */
  get(key: string): Promise<string | undefined>;
  /**
   * The stored (armored) value of a shared secret's version: <prefix>/values/<id>/<version>, the
   * version number in whatever zero-padding the store uses.
   */
  storedValue(id: string, version: number): Promise<string | undefined>;
  /** The fleet audit chain's lines (values of <prefix>/audit/*), in order. */
  auditLines(): Promise<string[]>;
  /** Stops every sync process and removes the host folders. Idempotent; runs after each test. */
  stop(): Promise<void>;
}

export interface FleetStatus {
  prefix: string;
  secrets: Record<string, { current: number; pending: number | null }>;
  hosts: Array<{
    host: string;
    fingerprint: string;
    lastSync: string | null;
    secrets: Record<string, { applied: number | null; target: number; lag: number }>;
  }>;
}

export interface FleetOptions {
  hosts?: number;
  /** Default 6s: long enough for a loaded 2-core machine, short enough for the timeout tests. */
  applyTimeout?: string;
  /** Default 3s: a dead rotator's lock is freed quickly. */
  lockTtl?: string;
  /** Every host starts with the same shared value (default), or each with its own. */
  sameSharedValue?: boolean;
  /** Extra policy entries merged into every host's policy. */
  policy?: Record<string, unknown>;
  /** The shared secret's after_change hook (default: append a line to hook.log). */
  hook?: string;
  /** Entries merged into every host's fleet.etcd (ca, cert, key, user, password_env). */
  etcd?: Record<string, unknown>;
  /** The fleet's prefix (default: a random one under /secrets/, unique to the fleet). */
  prefix?: string;
  /** Variables every host's commands and sync --watch run with (an etcd password_env's variable). */
  env?: Record<string, string>;
}

const live = new Set<Fleet>();
const children = new Set<ChildProcess>();
process.once('exit', () => {
  for (const child of children) if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
});

afterEach(async () => {
  await Promise.all([...live].map((fleet) => fleet.stop()));
});

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** Polls `predicate` until it is true; fails after timeoutMs saying what was awaited. */
export async function waitFor(
  what: string,
  predicate: () => boolean | Promise<boolean>,
  timeoutMs = 20_000,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (await predicate()) return;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await sleep(100);
  }
}

/** A fingerprint as `fleet join` prints it: 40 hex digits in groups of 4. */
export const FINGERPRINT = /fingerprint ((?:[0-9A-Fa-f]{4} ?){9}[0-9A-Fa-f]{4})/;

export function expectOk(result: CliResult, what: string): CliResult {
  if (result.code !== 0)
    throw new Error(`${what} exited ${result.code}\nstdout: ${result.stdout}\nstderr: ${result.stderr}`);
  return result;
}

function startSyncProcess(root: string, env: Record<string, string>): SyncProcess {
  const child = spawn(process.execPath, ['--', BIN, 'sync', '--watch'], {
    cwd: root,
    env: { ...process.env, NO_COLOR: '1', ...BACKUP_ENV, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  children.add(child);
  let output = '';
  const listeners = new Set<() => void>();
  const append = (chunk: Buffer) => {
    output += chunk.toString('utf8');
    for (const listener of listeners) listener();
  };
  child.stdout!.on('data', append);
  child.stderr!.on('data', append);
  const exit = new Promise<number | null>((resolve) =>
    child.once('exit', (code) => {
      children.delete(child);
      for (const listener of listeners) listener();
      resolve(code);
    }),
  );
  const exited = () => child.exitCode !== null || child.signalCode !== null;
  return {
    child,
    output: () => output,
    exited,
    waitForOutput(pattern, timeoutMs = 20_000) {
      return new Promise((resolve, reject) => {
        const check = () => {
          if (pattern.test(output)) {
            done();
            resolve();
          } else if (exited()) {
            done();
            reject(
              new Error(`sync --watch exited (${child.exitCode ?? child.signalCode}) before ${pattern}: ${output}`),
            );
          }
        };
        const timer = setTimeout(() => {
          done();
          reject(new Error(`sync --watch printed no ${pattern} within ${timeoutMs} ms: ${output}`));
        }, timeoutMs);
        const done = () => {
          clearTimeout(timer);
          listeners.delete(check);
        };
        listeners.add(check);
        check();
      });
    },
    async stop() {
      if (!exited()) {
        child.kill('SIGTERM');
        const timer = setTimeout(() => child.kill('SIGKILL'), 3_000);
        const code = await exit;
        clearTimeout(timer);
        return code;
      }
      return exit;
    },
  };
}

/**
 * N host folders (api-1 … api-N), each a deployment of its own with a policy whose `fleet:` section
 * points at `cluster` under a prefix unique to this fleet, a .env with fake values made now, the
 * shared random secret `jwt` (JWT_SECRET, its hook appends to hook.log) and a per-host random
 * secret `session`. Nothing runs until setUp(); everything is stopped and removed after the test.
 */
export function makeFleet(cluster: EtcdCluster, options: FleetOptions = {}): Fleet {
  const count = options.hosts ?? 3;
  const prefix = options.prefix ?? `/secrets/test-${randomBytes(6).toString('hex')}`;
  const initialShared = fakeHex(64);
  const hosts: FleetHost[] = [];
  let stopped = false;

  for (let i = 1; i <= count; i++) {
    const name = `api-${i}`;
    const root = mkdtempSync(join(tmpdir(), `secrets-fleet-${name}-`));
    const path = (relative: string) => join(root, relative);
    const shared = options.sameSharedValue === false ? fakeHex(64) : initialShared;
    writeFileSync(path('.env'), `# ${name}\n${SHARED_KEY}=${shared}\n${LOCAL_KEY}=${fakeHex(64)}\nPORT=8080\n`, {
      mode: 0o600,
    });
    chmodSync(path('.env'), 0o600);
    const policy = {
      version: 1,
      deployment: 'test-deploy',
      root: '.',
      env_file: '.env',
      backup: BACKUP_POLICY,
      fleet: {
        etcd: { endpoints: cluster.endpoints, ...(options.etcd ?? {}) },
        prefix,
        host: name,
        apply_timeout: options.applyTimeout ?? '6s',
        lock_ttl: options.lockTtl ?? '3s',
      },
      secrets: {
        [SHARED_ID]: {
          kind: 'random',
          env_key: SHARED_KEY,
          shared: true,
          rotate_every: '90d',
          after_change: [options.hook ?? 'echo x >> hook.log'],
        },
        [LOCAL_ID]: {
          kind: 'random',
          env_key: LOCAL_KEY,
          rotate_every: '90d',
          after_change: ['echo x >> local-hook.log'],
        },
      },
      ...(options.policy ?? {}),
    };
    writeFileSync(path('secrets.yaml'), stringify(policy), { mode: 0o644 });
    const countLines = (file: string) =>
      existsSync(path(file)) ? readFileSync(path(file), 'utf8').split('\n').filter(Boolean).length : 0;
    const host: FleetHost = {
      name,
      root,
      policyPath: path('secrets.yaml'),
      path,
      env: () => readFileSync(path('.env'), 'utf8'),
      value: (key = SHARED_KEY) => envValue(parseDotenv(readFileSync(path('.env'), 'utf8'), '.env'), key),
      hookRuns: () => countLines('hook.log'),
      localHookRuns: () => countLines('local-hook.log'),
      run: (args, runOptions = {}) =>
        runSecrets(args, {
          ...runOptions,
          cwd: root,
          env: { ...BACKUP_ENV, ...(options.env ?? {}), ...(runOptions.env ?? {}) },
        }),
      startSync(syncOptions = {}) {
        if (stopped) throw new Error('the fleet was stopped');
        if (host.sync && !host.sync.exited()) throw new Error(`${name} already runs sync --watch`);
        host.sync = startSyncProcess(root, { ...(options.env ?? {}), ...(syncOptions.env ?? {}) });
        return host.sync;
      },
      sync: undefined,
    };
    hosts.push(host);
  }

  const fleet: Fleet = {
    cluster,
    prefix,
    hosts,
    initialShared,
    async setUp() {
      const [first, ...others] = hosts;
      const fingerprints: Record<string, string> = {};
      const init = expectOk(await first!.run(['fleet', 'init']), `${first!.name}: secrets fleet init`);
      const own = FINGERPRINT.exec(init.stdout);
      if (own) fingerprints[first!.name] = own[1]!;
      // Join requests go out together; a member admits them one at a time (each admit re-encrypts).
      await Promise.all(
        others.map(async (host) => {
          const join = expectOk(await host.run(['fleet', 'join']), `${host.name}: secrets fleet join`);
          const match = FINGERPRINT.exec(join.stdout);
          if (!match) throw new Error(`${host.name}: fleet join printed no fingerprint: ${join.stdout}`);
          fingerprints[host.name] = match[1]!;
        }),
      );
      for (const host of others) {
        expectOk(
          await first!.run(['fleet', 'admit', host.name, '--fingerprint', fingerprints[host.name]!]),
          `${first!.name}: secrets fleet admit ${host.name}`,
        );
      }
      await Promise.all(others.map(async (host) => expectOk(await host.run(['sync']), `${host.name}: secrets sync`)));
      return { fingerprints };
    },
    async startSyncs(which = hosts) {
      const started = Date.now();
      const syncs = which.map((host) => host.startSync());
      await waitFor(
        `sync --watch started on ${which.map((host) => host.name).join(', ')}`,
        async () => {
          for (const [i, host] of which.entries()) {
            if (syncs[i]!.exited()) throw new Error(`${host.name}: sync --watch exited: ${syncs[i]!.output()}`);
            const record = await fleet.get(`hosts/${host.name}`);
            const lastSync = record ? (JSON.parse(record) as { lastSync?: string }).lastSync : undefined;
            if (!lastSync || Date.parse(lastSync) < started) return false;
          }
          return true;
        },
        30_000,
      );
      return syncs;
    },
    async status(from = hosts[0]!) {
      // Exit 1/2 when hosts lag or a version is pending (as check does); the document is the same.
      const result = await from.run(['fleet', 'status', '--json']);
      if (result.code === null || result.code > 2 || !result.stdout.trim().startsWith('{'))
        throw new Error(`${from.name}: secrets fleet status exited ${result.code}\n${result.stdout}${result.stderr}`);
      return JSON.parse(result.stdout) as FleetStatus;
    },
    async rawDump() {
      const dump = await cluster.etcdctl(['get', '--prefix', prefix]);
      if (dump.code !== 0) throw new Error(`etcdctl get --prefix ${prefix}: ${dump.stderr}`);
      return dump.stdout;
    },
    async get(key) {
      const result = await cluster.etcdctl(['get', `${prefix}/${key}`, '--print-value-only']);
      if (result.code !== 0) throw new Error(`etcdctl get ${prefix}/${key}: ${result.stderr}`);
      return result.stdout === '' ? undefined : result.stdout.replace(/\n$/, '');
    },
    async storedValue(id, version) {
      const keys = await cluster.etcdctl(['get', '--prefix', `${prefix}/values/${id}/`, '--keys-only']);
      if (keys.code !== 0) throw new Error(`etcdctl get --prefix ${prefix}/values/${id}/: ${keys.stderr}`);
      const key = keys.stdout
        .split('\n')
        .find((line) => line.trim() !== '' && Number(line.slice(line.lastIndexOf('/') + 1)) === version);
      return key ? fleet.get(key.slice(prefix.length + 1)) : undefined;
    },
    async auditLines() {
      const result = await cluster.etcdctl(['get', '--prefix', `${prefix}/audit/`, '--print-value-only']);
      if (result.code !== 0) throw new Error(`etcdctl get --prefix ${prefix}/audit/: ${result.stderr}`);
      return result.stdout.split('\n').filter((line) => line.trim() !== '');
    },
    async stop() {
      if (stopped) return;
      stopped = true;
      live.delete(fleet);
      await Promise.all(hosts.map((host) => host.sync?.stop()));
      for (const host of hosts) rmSync(host.root, { recursive: true, force: true });
    },
  };
  live.add(fleet);
  return fleet;
}

/** Where the contract keeps a host's private key: <state_dir>/fleet/host.key (state_dir .secrets here). */
export function hostKeyPath(host: FleetHost): string {
  return host.path('.secrets/fleet/host.key');
}

/**
 * Decrypts a value as stored in etcd with a host's private key, through openpgp as any OpenPGP tool
 * would: what "readable with a member's key" means. Takes an armored message, or a JSON envelope
 * whose `message` is one (armored, or binary in base64).
 */
export async function decryptAsHost(host: FleetHost, stored: string): Promise<string> {
  const openpgp = await import('openpgp');
  const privateKey = await openpgp.readPrivateKey({ armoredKey: readFileSync(hostKeyPath(host), 'utf8') });
  const text = stored.trim().startsWith('{') ? String((JSON.parse(stored) as { message?: unknown }).message) : stored;
  const message = text.startsWith('-----BEGIN PGP MESSAGE-----')
    ? await openpgp.readMessage({ armoredMessage: text })
    : await openpgp.readMessage({ binaryMessage: Buffer.from(text, 'base64') });
  const { data } = await openpgp.decrypt({ message, decryptionKeys: privateKey });
  return typeof data === 'string' ? data : Buffer.from(data as Uint8Array).toString('utf8');
}

/** A stored value is an OpenPGP message: armored, or a JSON envelope carrying one. */
export const OPENPGP_MESSAGE =
  /^(?:-----BEGIN PGP MESSAGE-----|\{.*"message":"(?:-----BEGIN PGP MESSAGE-----|[A-Za-z0-9+/=]{40,}))/s;

/** A value and the encoded forms a leak could take (hex and base64 of its text and of its bytes). */
export function encodedForms(value: string): string[] {
  const text = Buffer.from(value, 'utf8');
  const forms = [value, text.toString('hex'), text.toString('base64'), text.toString('base64url')];
  if (/^[0-9a-f]+$/i.test(value) && value.length % 2 === 0) {
    const bytes = Buffer.from(value, 'hex');
    forms.push(bytes.toString('base64'), bytes.toString('base64url'), value.toUpperCase());
  }
  // Drop base64 padding: a value inside a longer base64 text shows without it.
  return [...new Set(forms.map((form) => form.replace(/=+$/, '')))];
}

/** Fingerprints compared as the contract says: spaces and case ignored. */
export function sameFingerprint(a: string, b: string): boolean {
  return a.replace(/\s+/g, '').toLowerCase() === b.replace(/\s+/g, '').toLowerCase();
}
