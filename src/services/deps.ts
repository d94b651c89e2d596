import type { HostTree } from '../core/sweep.js';
import type {
  BasicAuthProber,
  Clock,
  DingtalkTransport,
  FileStore,
  FleetConnection,
  FleetKv,
  GitInfo,
  Locker,
  Output,
  Pgp,
  PostgresClient,
  ProcessRunner,
  Prompter,
  RedisClient,
} from '../core/ports.js';
import type { CrashPoint } from '../core/rotation/journal.js';
import type { ScanSources } from '../core/scan/ports.js';

export type { BasicAuthProber, GitInfo, Pgp, Prompter } from '../core/ports.js';

/**
 * Everything a use case needs from the outside world, handed in by the CLI (or a test).
 * Heavy adapters (openpgp, git history, HTTP) are loaded by the CLI only for the commands
 * that use them, so `secrets check` starts fast.
 */
export interface Deps {
  files: FileStore;
  clock: Clock;
  locker: Locker;
  runner: ProcessRunner;
  git: GitInfo;
  output: Output;
  prompts: Prompter;
  /** The process environment (read-only view). */
  env: Readonly<Record<string, string | undefined>>;
  /** The exact bytes of an environment variable, when the platform keeps them (passphrases; see adapters/raw-env.ts). */
  rawEnv?: (name: string) => Uint8Array | undefined;
  /** The OS user running the command, for the audit trail. */
  actor: string;
  cwd: string;
  /** Both stdin and stdout are terminals: prompts are allowed. */
  interactive: boolean;
  /** Reads all of standard input (for --password-stdin and dotenv pairs). */
  readStdin(): Promise<string>;
  /** DingTalk robot webhooks (the HTTP client is loaded on first use). */
  dingtalk: DingtalkTransport;
  /**
   * Called as a rotation passes each step. The CLI honours SECRETS_TEST_CRASH_AT=<step> here by
   * SIGKILLing itself, which is how the crash tests stop a rotation at every step.
   */
  onRotationStep?: (step: CrashPoint) => void;
  /** HTTP Basic Auth probes after an htpasswd rotation (the HTTP client is loaded on first use). */
  prober: BasicAuthProber;
  /** OpenPGP, imported on first call: only backup, restore and rotation pay for loading it. */
  loadPgp(): Promise<Pgp>;
  /** Postgres connections (node-postgres, loaded on first use): the postgres kind. */
  postgres: PostgresClient;
  /** Redis connections (ioredis, loaded on first use): the redis kind. */
  redis: RedisClient;
  /** Git and file sources of the leak scanner, loaded on demand (the leaked-value check, scan). */
  scanSources?: () => Promise<ScanSources>;
  /** The fleet's etcd store (etcd3, loaded on first use): only for a policy with a fleet: section. */
  openFleetKv?: (connection: FleetConnection) => Promise<FleetKv>;
  /** The host's files as `secrets sweep` walks them (lstat, no links followed), loaded on demand. */
  hostTree?: () => Promise<HostTree>;
}
