/**
 * What a kind of secret is to the rest of `secrets`: the Kind (its schema, where it lives, its
 * checks, its revocation), listed in src/kinds/index.ts, and its KindHandler (the rotation),
 * listed in src/kinds/rotations.ts, which only the rotation engine loads. Each kind is one folder,
 * src/kinds/<kind>/; docs/adding-a-kind.md walks through it.
 *
 * The rotation part is the contract between the rotation engine (services/rotate.ts) and one kind.
 *
 * The engine owns everything that is the same for every kind: choosing what to rotate, the
 * confirmation, the lock, the journal, the encrypted backup, the atomic writes, the hooks, the
 * roll-back, the audit trail and the four visible steps. A kind only says how its value is
 * made, proven, written into file text, checked after the swap and handed over:
 *
 *   1 create   create()        → PendingRotation (new values as Secret, the replaced ones if known)
 *   2 test     test()          → proves the pending value before anyone depends on it
 *   3 swap     planChanges()   → new file contents (pure: from the current contents)
 *              [engine: backup, journal, atomic writes, after_change hooks]
 *              verify()        → optional check of the live system (probes); throwing rolls back
 *   4 record   [engine: audit entry with fingerprints]
 *              deliver()       → optional hand-over after the record (DingTalk confirmation, an
 *                                encrypted password for the operator); a failure is a warning only
 *              abandon()       → optional: the swap failed after test(); undo what test() prepared
 *
 * Rules for a handler: never print, log or throw a value (values travel as `Secret`); prompt only
 * when `ctx.deps.interactive`; throw SecretsError (exit 3) to refuse — before the swap nothing
 * has changed, after it the engine rolls back; read files only through `current` or ctx.deps.
 */
import type * as z from 'zod/mini';
import type { AuditEntry } from '../core/audit.js';
import type { SecretProposal } from '../core/env-classifier.js';
import type { Finding } from '../core/checks/types.js';
import type { EnvDocument } from '../core/dotenv.js';
import type { SecretsError } from '../core/errors.js';
import type { Policy } from '../core/policy.js';
import type { SecretSpec } from '../core/policy-schema.js';
import type {
  BasicAuthProber,
  Clock,
  DingtalkTransport,
  FileStore,
  Output,
  Pgp,
  PostgresClient,
  Prompter,
  RedisClient,
} from '../core/ports.js';
import type { RotationStep } from '../core/rotation/journal.js';
import type { ManagedValue } from '../core/scan/types.js';
import type { Secret } from '../core/secret.js';
import type { PendingCredential } from './pending-credentials.js';
import type { CredentialRecoveryPlan } from './server-credential.js';

/**
 * The outside world as a kind sees it: the ports of core/ports.ts, handed in by the service that
 * runs it (services/deps.ts's Deps is a superset). A kind never imports an adapter or a service.
 */
export interface KindDeps {
  files: FileStore;
  clock: Clock;
  output: Output;
  prompts: Prompter;
  /** The process environment (read-only view). */
  env: Readonly<Record<string, string | undefined>>;
  /** Both stdin and stdout are terminals: prompts are allowed. */
  interactive: boolean;
  /** Reads all of standard input (for --password-stdin and dotenv pairs). */
  readStdin(): Promise<string>;
  /** DingTalk robot webhooks (the HTTP client is loaded on first use). */
  dingtalk: DingtalkTransport;
  /** HTTP Basic Auth probes (the HTTP client is loaded on first use). */
  prober: BasicAuthProber;
  /** OpenPGP, imported on first call. */
  loadPgp(): Promise<Pgp>;
  /** Postgres connections (node-postgres, loaded on first use): the postgres kind. */
  postgres: PostgresClient;
  /** Redis connections (ioredis, loaded on first use): the redis kind. */
  redis: RedisClient;
  /**
   * Called as a rotation passes each step; kinds that change a server pass their own steps too
   * (persisted, server-changed, old-removed), so the crash tests can stop them there.
   */
  onRotationStep?: (step: RotationStep) => void;
}

export interface RotationContext {
  policy: Policy;
  /** The secret's id in the policy. */
  id: string;
  deps: KindDeps;
  /** The audit trail, read-only: the fingerprint key and the entries so far (reuse checks). */
  audit: {
    fingerprintKey(): Promise<Uint8Array>;
    entries(): Promise<AuditEntry[]>;
  };
  /** --yes: the operator agreed in advance; no confirmation prompt (manual kind). */
  assumeYes: boolean;
  /**
   * Where a password the operator supplies comes from: --password-stdin (one line) or
   * --password-prompt (hidden, twice). Undefined: the kind's default (htpasswd generates one).
   */
  passwordFrom?: 'prompt' | 'stdin';
  /** One line of progress under the current step (stdout), e.g. "signed test message accepted". */
  say(line: string): void;
  /**
   * This rotation replaces a revoked value (`secrets revoke`): a kind whose credential opens
   * sessions (postgres, redis) ends the ones the revoked value opened, in deliver().
   */
  revoking?: boolean;
}

/** Contents of the files a kind changes, read by the engine: path → text, or undefined if missing. */
export type CurrentFiles = ReadonlyMap<string, string | undefined>;

export interface PendingRotation {
  /**
   * label → new value. Labels name the parts for the audit trail: the env key for env kinds
   * (`DINGTALK_WEBHOOK_URL`, `DINGTALK_SECRET`), or e.g. `password` for htpasswd.
   */
  next: Record<string, Secret>;
  /** label → the value it replaces, when known; the audit trail keeps both fingerprints. */
  previous: Record<string, Secret | undefined>;
}

/** One file's new content. The engine writes it atomically, keeping owner and mode. */
export interface FileChange {
  path: string;
  /** Text for the kinds; bytes when a restore puts back a file that is not text. */
  content: string | Uint8Array;
  /** Mode for a file that does not exist yet, or one the kind requires (htpasswd 640). */
  mode?: number;
}

/** What --dry-run and the confirmation show for one secret; never a value. */
export interface RotationOutline {
  files: string[];
  /** What changes inside them: env keys, "line of user admin". */
  targets: string[];
  /** How the new value is obtained ("generated: 32 random bytes, hex", "asked: new robot URL + secret"). */
  source: string;
  /** How it is tested before the swap. */
  test: string;
}

export interface KindHandler<S extends SecretSpec = SecretSpec, P extends PendingRotation = PendingRotation> {
  readonly kind: S['kind'];
  /** The plan for --dry-run and the confirmation prompt. No I/O, no value. */
  outline(spec: S, policy: Policy): RotationOutline;
  /**
   * Step 1: the pending value — generated, or read from a hidden prompt / standard input
   * (never argv). `current` holds the files of outline().files, for the previous values.
   * Return `undefined` to skip this secret with nothing changed (an operator who declines).
   */
  create(spec: S, ctx: RotationContext, current: CurrentFiles): Promise<P | undefined>;
  /** Step 2: proves the pending value; returns what was proven, throws a SecretsError to refuse. */
  test(spec: S, pending: P, ctx: RotationContext): Promise<string>;
  /**
   * Step 3: the new content of each file, computed from `current` (read again just before the
   * swap, under the lock). Pure: no I/O. Throw a SecretsError with file:line for unreadable input.
   * An empty list means nothing to write (a manual secret without env_key).
   */
  planChanges(spec: S, pending: P, current: CurrentFiles, ctx: RotationContext): FileChange[];
  /** After the swap and the hooks: checks the live system (probes). Throwing rolls everything back. */
  verify?(spec: S, pending: P, ctx: RotationContext): Promise<string | undefined>;
  /**
   * The rotation failed after test() (refused backup, failed hook or probe, rolled back): remove
   * what test() prepared outside the swapped files, such as an encrypted copy in an outbox.
   */
  abandon?(spec: S, pending: P, ctx: RotationContext): Promise<void>;
  /** After the record: hand-over or confirmation. A throw is shown as a warning; the rotation stands. */
  deliver?(spec: S, pending: P, ctx: RotationContext): Promise<string | undefined>;
  /**
   * Kinds that change a server (postgres, redis) save the pending credential before the server
   * changes (./pending-credentials.ts). After a crash, `rotate --recover` hands the record here:
   * the kind finds which credential the server accepts and plans the .env change; the engine
   * writes it, runs the hooks and records it.
   */
  recover?(spec: S, record: PendingCredential, ctx: RotationContext): Promise<CredentialRecoveryPlan>;
}

/** Thrown by handlers; re-exported so a handler needs one import for the contract. */
export type { SecretsError };

/** The first step of `secrets revoke`: what to write so the leaked value stops working now. */
export interface CutOffPlan {
  /** What the cut-off does, in one line, said before it runs. */
  summary: string;
  /** The files it reads and may write. */
  files: string[];
  targets: string[];
  /** label → the value being revoked, read before the cut-off (for the audit and the scan). */
  revoked: Record<string, Secret>;
  changes: FileChange[];
  /** After the writes and hooks: proves the cut-off on the live system; throwing rolls it back. */
  verify?: () => Promise<string>;
  /** What the responder should know once it is done. */
  after: string[];
}

export interface CutOffOptions {
  /** The value the responder typed (revoke.askLeakedValue), so the probe proves exactly it fails. */
  oldPassword?: Secret;
}

/** How `secrets revoke` treats a kind; see services/revoke.ts for the four steps around it. */
export interface KindRevocation<S extends SecretSpec = SecretSpec> {
  /** The confirmation's "cut off:" line. */
  cutOff: string;
  /** The confirmation's "replace:" line. */
  replace(lockOnly: boolean): string;
  /** Why --lock-only makes no sense for this kind ("is its replacement"); undefined when it applies. */
  noLockOnly?: string;
  /** The outcome's cut-off when nothing had to be written (default "already cut off"). */
  unchanged?: string;
  /** Steps printed under "3/4 replace" when the policy names none. */
  defaultSteps?: string[];
  /** The line above those steps; undefined: the steps are not printed (the replacement is automatic). */
  stepsIntro?: string;
  /** On a terminal, before anything changes: a prompt for the leaked value, so the cut-off probe can try it. */
  askLeakedValue?(spec: S): string | undefined;
  /** Why no replacement is attempted now (by hand, nothing on stdin); undefined: rotate it at once. */
  noReplacement?(id: string, spec: S, deps: Pick<KindDeps, 'interactive' | 'readStdin'>): Promise<string | undefined>;
  /**
   * The user name a web server logs for this secret (a Basic Auth password): revoke then lists,
   * from the policy's access_log, who logged in as that user in the leak window.
   */
  accessLogUser?(spec: S): string;
  /** Plans the cut-off from the current files (read under the lock). Pure but for what `verify` probes. */
  planCutOff(
    id: string,
    spec: S,
    policy: Policy,
    current: CurrentFiles,
    options: CutOffOptions,
    deps: Pick<KindDeps, 'prober'>,
  ): CutOffPlan;
}

/** What `secrets check` hands a kind's format check. */
export interface FormatCheckContext {
  policy: Policy;
  env: EnvDocument | undefined;
  /** path → parsed content of the files of `compliance.parses` (undefined: missing or unreadable). */
  parsed: ReadonlyMap<string, unknown>;
}

/** A kind's part in `secrets check`. */
export interface KindCompliance<S extends SecretSpec = SecretSpec> {
  /** Files of its own the check reads and parses (the htpasswd file), with the finding for a missing one. */
  parses?: {
    files(spec: S, policy: Policy): string[];
    parse(text: string, path: string): unknown;
    missing(path: string): string;
  };
  /** Values in the wrong shape: critical findings. */
  formats?(id: string, spec: S, ctx: FormatCheckContext): Finding[];
}

/** What `secrets check --live` hands a kind. */
export interface LiveCheckContext {
  policy: Policy;
  /** The env file's text (undefined when it does not exist). */
  envText: string | undefined;
  deps: Pick<KindDeps, 'postgres' | 'redis' | 'prober'>;
}

/** What `scan` and the leaked-value check hand a kind to collect its current values. */
export interface ManagedValueContext {
  policy: Policy;
  /** The env file's entries (empty when it does not exist). */
  env: ReadonlyMap<string, string>;
  /** A file's text, or undefined when it does not exist. */
  readTextIfExists(path: string): Promise<string | undefined>;
}

/**
 * One kind of secret. Everything here is cheap to load (it is on `secrets check`'s start-up
 * path); the rotation handler, which pulls in bcrypt, HTTP and OpenPGP, is listed in ./rotations.ts.
 * Methods (not function properties) so a Kind<HtpasswdSpec> is a Kind<SecretSpec> in the registry.
 */
export interface Kind<S extends SecretSpec = SecretSpec> {
  /** The `kind:` value in the policy. */
  readonly name: S['kind'];
  /** The policy schema of one secret of this kind: z.strictObject({ kind: z.literal(name), ...commonFields, … }). */
  readonly schema: z.ZodMiniType<S>;
  /** The env keys it occupies in the env file (none for a kind that lives in a file of its own). */
  envKeys(spec: S): string[];
  /** The files it lives in: what the rotation and revocation read and write, and the backup covers. */
  files(spec: S, policy: Policy): string[];
  /** `notify.dingtalk` may name it: the team is alerted through it. */
  readonly notifies?: boolean;
  /** Only a person can rotate it: an unattended `secrets rotate` never picks it. */
  readonly byHand?: boolean;
  /**
   * `shared: true` is allowed: its whole value is what create() makes and planChanges() writes
   * from pending.next alone, so every host of a fleet can apply the rotator's value to its own
   * files (docs/fleet.md). Kinds that change a server (postgres, redis) are not, yet.
   */
  readonly shareable?: boolean;
  /** Its current values, for the literal leak search (default: the values of its env keys). */
  managedValues?(id: string, spec: S, ctx: ManagedValueContext): Promise<ManagedValue[]>;
  /** Files other than the env file where its value lives by design (never a leak of itself). */
  valueHomes?(spec: S, policy: Policy): string[];
  compliance: KindCompliance<S>;
  revocation: KindRevocation<S>;
  /**
   * Environment variables (never .env) holding credentials it uses, such as an admin URL: the
   * after_change hooks never inherit them.
   */
  secretEnv?(spec: S): string[];
  /**
   * `secrets check --live`: proves its credential works on the live system right now (a login, a
   * probe) and reports drift. Loads what it needs on call: check's start-up path never pays for it.
   */
  live?(id: string, spec: S, ctx: LiveCheckContext): Promise<Finding[]>;
  /** `secrets init`: the policy lines of a secret it proposes (after the id and the reason comment). */
  draft?(proposal: Extract<SecretProposal, { kind: S['kind'] }>, rotateEvery: string): string[];
}
