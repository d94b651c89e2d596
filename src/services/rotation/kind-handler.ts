/**
 * The contract between the rotation engine (services/rotate.ts) and one kind of secret.
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
import type { SecretsError } from '../../core/errors.js';
import type { Policy } from '../../core/policy.js';
import type { SecretSpec } from '../../core/policy-schema.js';
import type { Secret } from '../../core/secret.js';
import type { Deps } from '../deps.js';

export interface RotationContext {
  policy: Policy;
  /** The secret's id in the policy. */
  id: string;
  deps: Deps;
  /** --yes: the operator agreed in advance; no confirmation prompt (manual kind). */
  assumeYes: boolean;
  /**
   * Where a password the operator supplies comes from: --password-stdin (one line) or
   * --password-prompt (hidden, twice). Undefined: the kind's default (htpasswd generates one).
   */
  passwordFrom?: 'prompt' | 'stdin';
  /** One line of progress under the current step (stdout), e.g. "signed test message accepted". */
  say(line: string): void;
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
}

/** Thrown by handlers; re-exported so a handler needs one import for the contract. */
export type { SecretsError };
