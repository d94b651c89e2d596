/**
 * The htpasswd kind: the dashboard's nginx Basic Auth password (issue 5).
 *
 *   create       a generated password (or typed twice, or --password-stdin), checked for
 *                strength and reuse; its $2y$ bcrypt line; delivery proven possible
 *   test         the new line verifies the password; the delivery is encrypted already
 *   planChanges  the file with exactly one line replaced or added, mode from the policy
 *   verify       after the engine's write and hooks: nginx can read the file, and the probe —
 *                new password → expect_new, old one → expect_old — or the engine rolls back
 *   deliver      the encrypted copy to the outbox (mode 600) and, on a terminal, the password once
 */
import { basename, dirname, join } from 'node:path';
import { bcryptHash, bcryptMatches } from '../../core/bcrypt.js';
import { durationMs, parseDuration } from '../../core/duration.js';
import { SecretsError } from '../../core/errors.js';
import {
  emptyHtpasswd,
  htpasswdUserProblem,
  isLockedOutHash,
  parseHtpasswd,
  setHtpasswdLine,
  type HtpasswdDocument,
  type HtpasswdEntry,
} from '../../core/htpasswd.js';
import { htpasswdAccepts, variantBudget } from '../../core/htpasswd-verify.js';
import {
  digitVariants,
  generatedPasswordBits,
  generatePassword,
  PASSWORD_ALPHABET,
  passwordProblems,
} from '../../core/password.js';
import { resolveIn, type Policy } from '../../core/policy.js';
import type { HtpasswdSpec } from './schema.js';
import { fingerprint, Secret } from '../../core/secret.js';
import type {
  CurrentFiles,
  FileChange,
  KindDeps,
  KindHandler,
  PendingRotation,
  RotationContext,
  RotationOutline,
} from '../kind.js';
import { inodeWarningsFor, readAccessWarningsFor } from './host.js';

/** Where the new password comes from: never a command-line argument, which `ps` and history keep. */
export type PasswordSource = 'generate' | 'prompt' | 'stdin';

export interface HtpasswdPending extends PendingRotation {
  next: { password: Secret };
  previous: { password: Secret | undefined };
  /** The new `$2y$` line's hash. */
  hash: string;
  /** Typed or piped by the operator, who therefore knows it: no need to show it. */
  suppliedByOperator: boolean;
  /** Encrypted in `test`, before the swap, so an unusable recipient key refuses with nothing changed. */
  encrypted?: { path: string; data: Uint8Array };
}

const GENERATE_ATTEMPTS = 10;

/**
 * Whether the current line accepts the new password with only its numbers changed: tried before
 * the swap, against the old hash itself, so `Name@2027!x` after `Name@2026!x` is caught whatever
 * the scheme of the legacy line (bcrypt, $apr1$, {SHA}).
 */
async function acceptsDigitVariant(password: Secret, hash: string): Promise<boolean> {
  for (const variant of digitVariants(password.reveal(), variantBudget(hash)))
    if (await htpasswdAccepts(new Secret(variant), hash)) return true;
  return false;
}

function htpasswdFile(policy: Policy, spec: HtpasswdSpec): string {
  return resolveIn(policy.root, spec.file);
}

/** The current document: parsed, or empty for a missing file the policy lets us create. */
function currentDocument(spec: HtpasswdSpec, file: string, current: CurrentFiles): HtpasswdDocument {
  const text = current.get(file);
  if (text === undefined) {
    if (spec.create) return emptyHtpasswd();
    throw new SecretsError(
      'htpasswd-missing',
      `the htpasswd file does not exist (nginx answers 403 to every request without it)`,
      {
        where: file,
        hint: 'fix the file: path in the policy, or set create: true to create it',
      },
    );
  }
  return parseHtpasswd(text, file);
}

/** Every fingerprint the audit trail holds for this secret, wherever the engine put it in the entry. */
async function seenFingerprints(id: string, ctx: RotationContext): Promise<Set<string>> {
  const seen = new Set<string>();
  const collect = (value: unknown): void => {
    if (typeof value === 'string' && value.startsWith('hmac-sha256:')) seen.add(value);
    else if (value && typeof value === 'object') for (const inner of Object.values(value)) collect(inner);
  };
  for (const entry of await ctx.audit.entries()) if (entry.secret === id) collect(entry);
  return seen;
}

/** One line from standard input: a trailing newline is the pipe's, anything more is a mistake. */
function passwordFromStdin(text: string): Secret {
  const value = text.replace(/\r?\n$/, '');
  if (/[\r\n]/.test(value))
    throw new SecretsError('password-stdin', 'standard input holds more than one line; expected the password alone');
  if (value === '') throw new SecretsError('password-stdin', 'standard input is empty; expected the password');
  return Secret.known(value);
}

async function passwordFromPrompt(user: string, deps: KindDeps): Promise<Secret> {
  if (!deps.interactive)
    throw new SecretsError('not-interactive', 'a hidden prompt needs a terminal', {
      hint: 'use --password-stdin, or let the password be generated',
    });
  const first = Secret.known(await deps.prompts.password(`New password for ${user}`));
  const second = Secret.known(await deps.prompts.password(`The same password again`));
  if (!first.equals(second))
    throw new SecretsError('password-mismatch', 'the two passwords differ; nothing was changed');
  return first;
}

/**
 * Rotated but known to nobody means everyone is locked out, so the way the password reaches a
 * person is settled before anything changes.
 */
async function checkDeliveryPossible(
  spec: HtpasswdSpec,
  ctx: RotationContext,
  source: PasswordSource,
  id: string,
): Promise<void> {
  const { deps, policy } = ctx;
  if (spec.deliver) {
    for (const recipient of spec.deliver.recipients) {
      const path = resolveIn(policy.root, recipient);
      if (!(await deps.files.stat(path))) {
        throw new SecretsError('deliver-recipient', `recipient key ${recipient} does not exist`, {
          where: policy.path,
          hint: 'export the public key there (gpg --armor --export) or fix deliver.recipients',
        });
      }
    }
    return;
  }
  if (source === 'generate' && !deps.interactive) {
    throw new SecretsError(
      'htpasswd-undeliverable',
      `${id}: a generated password would reach nobody (not on a terminal, and the policy has no deliver: recipients)`,
      {
        where: policy.path,
        hint: 'rotate on a terminal, add deliver: {recipients, dir} to the policy, or supply the password with --password-stdin',
      },
    );
  }
}

/**
 * On a terminal, with a probe: the current password, so the probe proves that exactly it stops
 * working (Enter skips, and the probe then tries a random wrong one). A bcrypt, apr1 or SHA line lets us check
 * the answer at once; a typo would otherwise make the probe prove nothing.
 */
async function askCurrentPassword(
  user: string,
  entry: HtpasswdEntry,
  file: string,
  deps: KindDeps,
): Promise<Secret | undefined> {
  if (!deps.interactive) return undefined;
  const answer = await deps.prompts.password(
    `Current password of ${user}, for the probe that proves it stops working (Enter to skip)`,
  );
  if (answer === '') return undefined;
  const current = Secret.known(answer);
  if ((await htpasswdAccepts(current, entry.hash)) === false) {
    throw new SecretsError(
      'current-password-mismatch',
      `that is not the current password of ${user}; nothing was changed`,
      { where: `${file}:${entry.line}`, hint: 'type it again, or press Enter to skip' },
    );
  }
  return current;
}

function outboxName(id: string, now: Date): string {
  return `${id}-${now
    .toISOString()
    .replace(/[-:]/g, '')
    .replace(/\.\d+Z$/, 'Z')}.gpg`;
}

/** The operator's --password-stdin / --password-prompt, through the context; generated otherwise. */
const sourceOf = (ctx: { passwordFrom?: PasswordSource | undefined }): PasswordSource => ctx.passwordFrom ?? 'generate';

export const htpasswdHandler: KindHandler<HtpasswdSpec, HtpasswdPending> = {
  kind: 'htpasswd',

  outline(spec, policy): RotationOutline {
    // outline() has no context: the dry run describes the default.
    const source = sourceOf({});
    const sources: Record<PasswordSource, string> = {
      generate: `generated: ${spec.length} characters from a ${PASSWORD_ALPHABET.length}-symbol alphabet (~${generatedPasswordBits(spec.length)} bits)`,
      prompt: 'typed twice at a hidden prompt',
      stdin: 'read from standard input',
    };
    const probe = spec.probe
      ? `; after the swap ${spec.probe.url} must answer ${spec.probe.expect_new} to the new password and ${spec.probe.expect_old} to the old`
      : '';
    return {
      files: [htpasswdFile(policy, spec)],
      targets: [`line of user ${spec.user}`],
      source: sources[source],
      test: `the new $2y$ bcrypt line (cost ${spec.bcrypt_cost}) verifies the password${probe}`,
    };
  },

  async create(spec, ctx, current) {
    const { deps, policy, id } = ctx;
    const source = sourceOf(ctx);
    const file = htpasswdFile(policy, spec);
    const userProblem = htpasswdUserProblem(spec.user);
    if (userProblem) throw new SecretsError('htpasswd-user', userProblem, { where: policy.path });
    const doc = currentDocument(spec, file, current);
    if (current.get(file) === undefined && !(await deps.files.stat(dirname(file)))?.isDirectory) {
      // Creating folders too would turn a typo in file: into a stray tree nginx never reads.
      throw new SecretsError(
        'htpasswd-missing',
        `cannot create the htpasswd file: its folder ${dirname(file)} does not exist`,
        { where: policy.path, hint: 'create the folder, or fix file: in the policy' },
      );
    }
    const currentEntry = doc.entries.find((entry) => entry.user === spec.user);
    await checkDeliveryPossible(spec, ctx, source, id);

    for (const warning of await inodeWarningsFor(file, deps)) deps.output.err(`warning: ${warning}\n`);

    const key = await ctx.audit.fingerprintKey();
    const context = {
      user: spec.user,
      deployment: policy.deployment,
      seenFingerprints: await seenFingerprints(id, ctx),
      fingerprintOf: (value: Secret) => fingerprint(value, key),
    };

    // After `secrets revoke` the line is a lock-out hash: there is no current password to ask for.
    const previous =
      currentEntry && spec.probe && !isLockedOutHash(currentEntry.hash)
        ? await askCurrentPassword(spec.user, currentEntry, file, deps)
        : undefined;
    let password: Secret;
    if (source === 'generate') {
      // A random draw can, very rarely, contain the user name; draw again rather than weaken the rule.
      let attempt = 0;
      do password = generatePassword(spec.length);
      while (passwordProblems(password, context).length > 0 && ++attempt < GENERATE_ATTEMPTS);
    } else {
      password =
        source === 'stdin' ? passwordFromStdin(await deps.readStdin()) : await passwordFromPrompt(spec.user, deps);
    }
    const problems = passwordProblems(password, context);
    if (currentEntry && !isLockedOutHash(currentEntry.hash)) {
      if (await htpasswdAccepts(password, currentEntry.hash)) problems.push('it is the current password');
      else if (source !== 'generate' && (await acceptsDigitVariant(password, currentEntry.hash)))
        problems.push('it differs from the current password only in its numbers (a bumped year or counter)');
    }
    if (previous?.equals(password)) problems.push('it is the current password');
    if (problems.length > 0) {
      throw new SecretsError(
        'weak-password',
        `${id}: the new password is refused: ${[...new Set(problems)].join('; ')}`,
        { hint: 'choose another, or let secrets generate one' },
      );
    }

    const origin = source === 'generate' ? 'generated' : source === 'stdin' ? 'read from standard input' : 'typed';
    ctx.say(
      `the new password of ${spec.user} is ${origin}, ${password.length} characters, and passes the strength checks`,
    );
    return {
      next: { password },
      previous: { password: previous },
      hash: await bcryptHash(password, spec.bcrypt_cost),
      suppliedByOperator: source !== 'generate',
    };
  },

  async test(spec, pending, ctx) {
    if (!(await bcryptMatches(pending.next.password, pending.hash))) {
      throw new SecretsError(
        'htpasswd-hash',
        'the new bcrypt line does not verify the new password; nothing was changed',
      );
    }
    let encrypted = '';
    if (spec.deliver) {
      const { deps, policy, id } = ctx;
      const recipients = await Promise.all(
        spec.deliver.recipients.map((recipient) => deps.files.readText(resolveIn(policy.root, recipient))),
      );
      const pgp = await deps.loadPgp();
      const name = outboxName(id, deps.clock.now());
      const data = await pgp.encrypt(Buffer.from(`${pending.next.password.reveal()}\n`, 'utf8'), {
        recipients,
        filename: `${id}.txt`,
      });
      const path = join(resolveIn(policy.root, spec.deliver.dir), name);
      // Written before the swap, so a password that goes live is never one nobody can read: if
      // the outbox cannot be written, the rotation is refused with nothing changed. abandon()
      // removes the copy when the rotation then fails.
      await deps.files.ensureDir(resolveIn(policy.root, spec.deliver.dir), 0o700);
      await deps.files.writeAtomic(path, data, { mode: 0o600 });
      pending.encrypted = { path, data };
      encrypted = `; encrypted to ${recipients.length} recipient key${recipients.length === 1 ? '' : 's'} in ${basename(path)}`;
    }
    return `$2y$ bcrypt line at cost ${spec.bcrypt_cost} verifies the new password${encrypted}`;
  },

  planChanges(spec, pending, current, ctx): FileChange[] {
    const file = htpasswdFile(ctx.policy, spec);
    const content = setHtpasswdLine(currentDocument(spec, file, current), spec.user, pending.hash, file);
    return [{ path: file, content, mode: parseInt(spec.mode, 8) }];
  },

  async verify(spec, pending, ctx) {
    const { deps, policy } = ctx;
    for (const warning of await readAccessWarningsFor(htpasswdFile(policy, spec), deps))
      deps.output.err(`warning: ${warning}\n`);
    if (!spec.probe) return undefined;
    const { url, expect_new: expectNew, expect_old: expectOld } = spec.probe;
    const timeoutMs = durationMs(parseDuration(spec.probe.timeout)!);
    const newStatus = await deps.prober.status(
      url,
      { user: spec.user, password: pending.next.password },
      { timeoutMs },
    );
    const old = pending.previous.password ?? generatePassword(spec.length);
    const oldLabel = pending.previous.password ? 'the old password' : 'a wrong password (the old one was not given)';
    const oldStatus = await deps.prober.status(url, { user: spec.user, password: old }, { timeoutMs });
    const failures: string[] = [];
    if (newStatus !== expectNew) failures.push(`the new password got ${newStatus}, expected ${expectNew}`);
    if (oldStatus !== expectOld) failures.push(`${oldLabel} got ${oldStatus}, expected ${expectOld}`);
    if (failures.length > 0) {
      throw new SecretsError('probe-failed', `probe ${url}: ${failures.join('; ')}`, {
        hint:
          newStatus === 500
            ? 'nginx answers 500 when its worker cannot read the htpasswd file: check its group and mode'
            : 'check the probe url and expectations in the policy',
      });
    }
    return `probe ${url}: new password → ${newStatus}, ${oldLabel} → ${oldStatus}`;
  },

  async abandon(_spec, pending, ctx) {
    if (pending.encrypted) await ctx.deps.files.remove(pending.encrypted.path);
  },

  async deliver(spec, pending, ctx) {
    const { deps } = ctx;
    const done: string[] = [];
    if (pending.encrypted) {
      const { path } = pending.encrypted;
      deps.output.out(`encrypted password for ${spec.user}: ${path}\n`);
      done.push(`encrypted to ${basename(path)}`);
    }
    if (deps.interactive && !pending.suppliedByOperator) {
      // The one place the password is shown: on the operator's terminal, once, after success.
      deps.output.out(
        `\n  new password for ${spec.user}: ${pending.next.password.reveal()}\n\n  shown once and stored nowhere in plain text: put it in your password manager now.\n`,
      );
      done.push('shown once on the terminal');
    }
    if (!spec.probe) {
      // Said last, where the operator looks: the file changed, but nothing asked nginx about it.
      deps.output.err(
        `secrets: warning: ${ctx.id}: not verified through nginx: the policy has no probe, so nothing proved nginx accepts the new password (add probe: { url: ... } to the policy)\n`,
      );
    }
    return done.length > 0 ? done.join('; ') : undefined;
  },
};
