/**
 * The first step of `secrets revoke`, per kind: what to write so the leaked value stops working
 * now, before any replacement exists. Planned here (reading only what the engine read), written
 * by the rotation engine's one write path (rotation/apply-changes.ts).
 */
import { randomBytes } from 'node:crypto';
import { durationMs, parseDuration } from '../../core/duration.js';
import { SecretsError } from '../../core/errors.js';
import {
  LOCKED_OUT_RANDOM_BYTES,
  isLockedOutHash,
  lockedOutHash,
  parseHtpasswd,
  setHtpasswdLine,
} from '../../core/htpasswd.js';
import { generatePassword } from '../../core/password.js';
import { envKeysOfSecret, resolveIn, type Policy } from '../../core/policy.js';
import type { SecretSpec } from '../../core/policy-schema.js';
import { Secret } from '../../core/secret.js';
import type { Deps } from '../deps.js';
import { currentEnvValues, planEnvChange } from '../rotation/env-values.js';
import type { CurrentFiles, FileChange } from '../rotation/kind-handler.js';

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

/** The files a cut-off of this kind reads (the engine reads them, under the lock). */
export function cutOffFiles(spec: SecretSpec, policy: Policy): string[] {
  if (spec.kind === 'htpasswd') return [resolveIn(policy.root, spec.file)];
  return envKeysOfSecret(spec).length > 0 ? [policy.envFile] : [];
}

function definedValues(values: Record<string, Secret | undefined>): Record<string, Secret> {
  const result: Record<string, Secret> = {};
  for (const [key, value] of Object.entries(values)) if (value && !value.isEmpty()) result[key] = value;
  return result;
}

export interface CutOffOptions {
  /** The htpasswd user's current password, when the responder gave it: the probe proves it fails. */
  oldPassword?: Secret;
}

export function planCutOff(
  id: string,
  spec: SecretSpec,
  policy: Policy,
  current: CurrentFiles,
  options: CutOffOptions,
  deps: Pick<Deps, 'prober'>,
): CutOffPlan {
  const files = cutOffFiles(spec, policy);
  if (spec.kind === 'htpasswd') {
    const file = files[0]!;
    const text = current.get(file);
    if (text === undefined)
      throw new SecretsError('htpasswd-missing', `the htpasswd file does not exist: nothing to lock`, { where: file });
    const doc = parseHtpasswd(text, file);
    const entry = doc.entries.find((candidate) => candidate.user === spec.user);
    if (!entry)
      throw new SecretsError(
        'htpasswd-user-missing',
        `user ${spec.user} has no line in the htpasswd file: nothing to lock`,
        { where: file },
      );
    if (isLockedOutHash(entry.hash))
      throw new SecretsError('already-revoked', `${id} is already locked out (user ${spec.user})`, {
        where: `${file}:${entry.line}`,
        hint: `replace it with secrets rotate ${id}`,
      });
    const revoked: Record<string, Secret> = { hash: Secret.known(entry.hash) };
    if (options.oldPassword) revoked.password = options.oldPassword;
    const lockedLine = lockedOutHash(spec.bcrypt_cost, randomBytes(LOCKED_OUT_RANDOM_BYTES));
    const plan: CutOffPlan = {
      summary: `lock out ${spec.user}: its line becomes a hash no password matches`,
      files,
      targets: [`line of user ${spec.user}`],
      revoked,
      changes: [
        { path: file, content: setHtpasswdLine(doc, spec.user, lockedLine, file), mode: parseInt(spec.mode, 8) },
      ],
      after: [`${spec.user} is locked out: no password gets in until the replacement`],
    };
    const probe = spec.probe;
    if (probe) {
      plan.verify = async () => {
        const tried = options.oldPassword ?? generatePassword(spec.length);
        const label = options.oldPassword ? 'the old password' : 'a wrong password (the old one was not given)';
        const status = await deps.prober.status(
          probe.url,
          { user: spec.user, password: tried },
          { timeoutMs: durationMs(parseDuration(probe.timeout)!) },
        );
        if (status !== probe.expect_old) {
          throw new SecretsError(
            'probe-failed',
            `probe ${probe.url}: ${label} got ${status} after the lock-out, expected ${probe.expect_old}`,
            { hint: 'check that the hooks reload nginx and that the probe url is behind the htpasswd file' },
          );
        }
        return `probe ${probe.url}: ${label} → ${status}`;
      };
    }
    return plan;
  }
  const keys = envKeysOfSecret(spec);
  const revoked = definedValues(currentEnvValues(policy, current, keys));
  if (spec.kind === 'dingtalk') {
    const blank: Record<string, Secret> = Object.fromEntries(keys.map((key) => [key, Secret.known('')]));
    const changes = Object.keys(revoked).length > 0 ? planEnvChange(policy, current, blank) : [];
    return {
      summary: `blank ${keys.join(' and ')} in ${policy.envFile}`,
      files,
      targets: keys,
      revoked,
      changes,
      after: [
        'alerts pause until the new robot is in: better silence than alerts through a leaked robot anyone can post to',
      ],
    };
  }
  // random: the replacement is the cut-off (a new value at once); manual: only a person can.
  return {
    summary:
      spec.kind === 'random'
        ? 'replace the value at once (the replacement is the cut-off)'
        : 'recorded; the cut-off is done by hand',
    files,
    targets: keys,
    revoked,
    changes: [],
    after: [],
  };
}
