import type { ApproverKey, SignatureReading } from './approval/decision.js';
import type { Secret } from './secret.js';

/**
 * The outside world as the use cases see it. Adapters in src/adapters implement these; commands
 * receive them in `Deps` and never import an adapter. Core itself touches none of them.
 */

export interface FileStat {
  mode: number;
  uid: number;
  gid: number;
  size: number;
  mtime: Date;
  ino: number;
  nlink: number;
  isFile: boolean;
  isDirectory: boolean;
  /** Only from lstat: the path itself is a symbolic link. */
  isSymbolicLink?: boolean;
}

export interface AtomicWriteOptions {
  /** File mode; default: the existing file's mode, else 0o600. */
  mode?: number;
}

export interface FileStore {
  readText(path: string): Promise<string>;
  /**
   * The file's text, or undefined when nothing is there (no such file, or a parent is not a
   * folder). Any other failure (no permission, a folder at the path) is thrown: a file that exists
   * but cannot be read is not the same as no file.
   */
  readTextIfExists(path: string): Promise<string | undefined>;
  readBytes(path: string): Promise<Uint8Array>;
  /** undefined when the path does not exist. */
  stat(path: string): Promise<FileStat | undefined>;
  /** The path with every symbolic link resolved; the path itself when it does not exist. */
  realpath(path: string): Promise<string>;
  /** Like stat, but of a link itself (isSymbolicLink set). */
  lstat(path: string): Promise<FileStat | undefined>;
  /** Temp file in the same folder, fsync, rename, fsync the folder; keeps owner and mode. */
  writeAtomic(path: string, data: string | Uint8Array, options?: AtomicWriteOptions): Promise<void>;
  /** Creates a file only if no file has the name, complete in one step (link of a synced temp); false when it exists. */
  createExclusive(path: string, data: string | Uint8Array, mode: number): Promise<boolean>;
  /** Appends one line and fsyncs. Creates the file with mode 600. */
  appendLine(path: string, line: string): Promise<void>;
  ensureDir(path: string, mode?: number): Promise<void>;
  list(dir: string): Promise<string[]>;
  remove(path: string): Promise<void>;
  /** Removes an empty folder (never recursive: cleanup after a failed restore). */
  removeEmptyDir(path: string): Promise<void>;
  chmod(path: string, mode: number): Promise<void>;
}

export interface Clock {
  now(): Date;
}

export interface LockHandle {
  release(): Promise<void>;
}

export interface LockInfo {
  pid: number;
  host: string;
  user: string;
  command: string;
  since: string;
  /** Unique per acquisition: what a takeover and a release compare. */
  nonce: string;
}

/** What `check` sees of the lock without taking it. */
export interface LockState {
  path: string;
  holder?: LockInfo;
  ageMs: number;
  /** Its holder died on this host, or the file stayed empty or unreadable. */
  stale: boolean;
}

export interface Locker {
  /** Takes the state folder's lock; fails at once with who holds it, or waits up to `waitMs`. */
  acquire(stateDir: string, options: { command: string; waitMs?: number }): Promise<LockHandle>;
  /** The lock as it is now, or undefined when nobody holds it. */
  inspect(stateDir: string): Promise<LockState | undefined>;
}

export interface Output {
  /** Human output, results. */
  out(text: string): void;
  /** Diagnostics, progress, warnings. */
  err(text: string): void;
  /** Whether stdout/stderr is a terminal (progress and colour only then). */
  isTTY: boolean;
  color: boolean;
}

export interface RunResult {
  code: number | null;
  signal: string | null;
  stdout: string;
  stderr: string;
  timedOut: boolean;
}

export interface ProcessRunner {
  /**
   * Runs a shell command (policy hooks). Secrets never go in its arguments or environment:
   * the environment passed is the caller's, filtered of every managed key.
   */
  run(
    command: string,
    options: { cwd: string; timeoutMs: number; env?: Record<string, string | undefined> },
  ): Promise<RunResult>;
}

/** Read-only questions to git that `check` needs; cheap calls, no history walking. */
export interface GitInfo {
  /** The top folder of the repository holding `dir`, or undefined outside git. */
  repoRoot(dir: string): Promise<string | undefined>;
  /** Which of `paths` (absolute) git tracks in the repository at `repoRoot`. */
  trackedFiles(repoRoot: string, paths: string[]): Promise<string[]>;
}

export interface Prompter {
  /** A hidden prompt (passwords, secrets). Throws a SecretsError (exit 3) on Ctrl+C. */
  password(message: string): Promise<string>;
  confirm(message: string, defaultValue?: boolean): Promise<boolean>;
  input(message: string, defaultValue?: string): Promise<string>;
  /** A list to tick; returns the values ticked, in list order. */
  checkbox(message: string, choices: Array<{ name: string; value: string; checked: boolean }>): Promise<string[]>;
}

export interface HttpAnswer {
  status: number;
  body: string;
}

/**
 * Posts to a DingTalk robot webhook. Signing, reading the answer and retrying are the caller's
 * (core/dingtalk.ts); this is the wire only. Timeouts and connection errors are thrown as a
 * SecretsError (exit 3) whose message masks the access_token.
 */
export interface DingtalkTransport {
  postJson(url: string, body: string, options: { timeoutMs: number }): Promise<HttpAnswer>;
  /** Waits before the one retry after DingTalk's rate limit (injected: tests do not wait a minute). */
  pause(ms: number): Promise<void>;
}

/** Credentials for one Basic Auth probe. The password travels only in the Authorization header. */
export interface BasicAuthCredentials {
  user: string;
  password: Secret;
}

/**
 * Asks a URL behind HTTP Basic Auth for its status: the proof, after an htpasswd rotation, that
 * the new password gets in and the old one does not. Each call uses a fresh connection, so a
 * keep-alive connection to a worker from before a reload cannot answer for the new one.
 * Connection failures and timeouts are a SecretsError (exit 3).
 */
export interface BasicAuthProber {
  status(url: string, credentials: BasicAuthCredentials | undefined, options: { timeoutMs: number }): Promise<number>;
}

export interface PgpEncryptOptions {
  /** Armored OpenPGP public keys; each must have a usable encryption (sub)key. */
  recipients: string[];
  passphrase?: Secret;
  /** File name stored in the literal data packet (what `gpg --decrypt` would suggest). */
  filename?: string;
}

export interface PgpDecryptOptions {
  passphrase?: Secret;
  /**
   * Stop decrypting and decompressing past this many bytes of plaintext: a small file that
   * inflates to gigabytes (a compression bomb) is refused long before memory grows.
   */
  maxBytes?: number;
  /** With maxBytes: return the first maxBytes instead of refusing (reading a header only). */
  prefixOnly?: boolean;
  /** Armored private key and the passphrase that unlocks it (if it is protected). */
  privateKey?: { armored: Secret; passphrase?: Secret };
}

/** What the packets of a message say, without decrypting it. */
export interface PgpMessageInfo {
  /** A symmetric session key packet: a passphrase can open it. */
  passphrase: boolean;
  /** Key ids (16 hex) of the public-key session key packets; "0000000000000000" is a hidden recipient. */
  recipientKeyIds: string[];
}

/**
 * OpenPGP as the backup module needs it. The adapter (src/adapters/openpgp.ts) is loaded lazily
 * through Deps.loadPgp, so commands that never encrypt do not pay for loading it. Failures are
 * SecretsErrors with one clear line (wrong passphrase, wrong key, damaged, no encryption key).
 */
export interface Pgp {
  encrypt(data: Uint8Array, options: PgpEncryptOptions): Promise<Uint8Array>;
  decrypt(message: Uint8Array, options: PgpDecryptOptions): Promise<{ data: Uint8Array; filename: string }>;
  inspect(message: Uint8Array): Promise<PgpMessageInfo>;
  /** Key ids of the encryption (sub)keys of an armored public key; throws when it has none. */
  encryptionKeyIds(armoredPublicKey: string): Promise<string[]>;
  /** Key ids of every (sub)key of an armored private key. */
  privateKeyIds(armoredPrivateKey: Secret): Promise<string[]>;
  /**
   * An armored detached signature over `data` (binary mode, as `gpg --detach-sign` makes), with
   * the signing key's primary fingerprint. `passphraseHint` says where a passphrase comes from.
   */
  signDetached(
    data: Uint8Array,
    key: { armored: Secret; passphrase?: Secret; passphraseHint?: string },
  ): Promise<{ signature: string; fingerprint: string; userIds: string[] }>;
  /** The primary fingerprint of an armored private key (no passphrase needed). */
  privateKeyFingerprint(armoredPrivateKey: Secret): Promise<string>;
  /**
   * A new key pair (curve25519: an EdDSA primary key and an ECDH encryption subkey) for one fleet
   * host: the private key unprotected (it lives in a mode-600 file, like an ssh host key).
   */
  generateKeyPair(
    userId: string,
    validForSeconds: number,
  ): Promise<{ privateKey: Secret; publicKey: string; fingerprint: string; expires: Date | null }>;
  /** What an approver's armored public key says: fingerprint, key ids, user ids, expiry, revocation. */
  readApproverKey(armoredPublicKey: string): Promise<Omit<ApproverKey, 'label' | 'file'>>;
  /**
   * Reads a detached signature (armored or binary) over `data` and checks it against whichever of
   * `keys` (armored public keys) issued it, at the time it was made. Never throws for a bad signature.
   */
  verifyDetached(data: Uint8Array, signature: Uint8Array, keys: string[]): Promise<SignatureReading>;
}

/** Where and as whom to open one database or cache connection. */
export interface ConnectionTarget {
  host: string;
  port: number;
  /** '' for a Redis server with requirepass only (AUTH password). */
  user: string;
  password: Secret | undefined;
  /** Postgres: the database; Redis: the db number as text ('' for 0). */
  database: string;
  /**
   * TLS: 'verify' checks the server's certificate (sslmode=verify-ca|verify-full, rediss://);
   * 'require' encrypts without checking it (sslmode=require, as libpq does); false: none.
   */
  tls: false | 'require' | 'verify';
  timeoutMs: number;
}

/**
 * Why a connection or a statement failed, so a kind can say it in one line: the server cannot be
 * reached, it refused the credential, the role lacks a right, or something else. Never holds a value.
 */
export type ConnectionFailure = 'unreachable' | 'login-refused' | 'denied' | 'missing' | 'other';

/** One open Postgres connection. Statements take parameters ($1…) for every value that can. */
export interface SqlSession {
  query<Row extends Record<string, unknown>>(sql: string, values?: unknown[]): Promise<Row[]>;
  close(): Promise<void>;
}

/**
 * Opens Postgres connections (node-postgres, loaded on first use). Every failure is a SecretsError
 * whose code is `pg-<ConnectionFailure>` and whose message is the server's, never a statement.
 */
export interface PostgresClient {
  connect(target: ConnectionTarget): Promise<SqlSession>;
}

/** One open Redis connection, authenticated (AUTH user password) when the target has a password. */
export interface RedisSession {
  command(args: string[]): Promise<unknown>;
  close(): Promise<void>;
}

/** Opens Redis connections (ioredis, loaded on first use); failures as for PostgresClient, codes `redis-…`. */
export interface RedisClient {
  connect(target: ConnectionTarget): Promise<RedisSession>;
}

/** Where the fleet's etcd cluster is and how to log in (from the policy's fleet.etcd). */
export interface FleetConnection {
  endpoints: string[];
  ca?: string;
  cert?: string;
  key?: string;
  user?: string;
  /** The password itself, read from the variable password_env names. */
  password?: string;
  /** Deadline of one request, ms. */
  requestTimeoutMs?: number;
}

/** One key of the fleet's store, with the revision that last changed it (for compare-and-swap). */
export interface KvEntry {
  key: string;
  value: string;
  /** etcd's mod_revision, as a decimal string. */
  modRevision: string;
}

/** A condition of a transaction: the key's mod revision is this one ('0': the key does not exist). */
export interface KvCompare {
  key: string;
  modRevision: string;
}

export type KvOperation =
  { put: string; value: string; leased?: boolean } | { delete: string } | { deletePrefix: string };

/** A lease-backed lock: held while this process keeps the lease alive; `lost` turns true when etcd drops it. */
export interface KvLock {
  readonly lost: boolean;
  release(): Promise<void>;
}

/**
 * The fleet's shared store (etcd, src/adapters/etcd.ts, loaded only for a policy with a fleet:
 * section). Every failure to reach a quorum is a SecretsError `etcd-unreachable` (exit 3) that
 * names the endpoints tried. Keys are full keys (the caller adds the fleet's prefix).
 */
export interface FleetKv {
  readonly endpoints: string[];
  get(key: string): Promise<KvEntry | undefined>;
  /** Every key under the prefix, in key order; with `from`, only the keys from that one (inclusive) on. */
  list(prefix: string, options?: { from?: string }): Promise<KvEntry[]>;
  /** All compares hold → every operation, atomically, and true; else nothing and false. */
  txn(compares: KvCompare[], operations: KvOperation[]): Promise<boolean>;
  /**
   * Creates `key` holding `value` under a lease of ttlSeconds kept alive by this process, if it does
   * not exist. Returns the lock, or the value of whoever holds it.
   */
  tryLock(key: string, value: string, ttlSeconds: number): Promise<{ lock: KvLock } | { heldBy: string }>;
  /**
   * Calls onChange (debounced by the caller) for every change under the prefix; reconnects by
   * itself; onState reports lost and regained connections. close() stops it.
   */
  watch(
    prefix: string,
    onChange: () => void,
    onState: (state: 'connected' | 'disconnected', detail?: string) => void,
  ): Promise<{ close(): Promise<void> }>;
  close(): Promise<void>;
}
