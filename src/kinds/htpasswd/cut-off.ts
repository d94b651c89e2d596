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
import { Secret } from '../../core/secret.js';
import type { CurrentFiles, CutOffOptions, CutOffPlan, KindDeps } from '../kind.js';
import type { HtpasswdSpec } from './schema.js';

/**
 * The htpasswd cut-off: the user's line becomes a hash no password matches (the file keeps every
 * other line), then, with a probe, the leaked password must be refused.
 */
export function planHtpasswdCutOff(
  id: string,
  spec: HtpasswdSpec,
  files: string[],
  current: CurrentFiles,
  options: CutOffOptions,
  deps: Pick<KindDeps, 'prober'>,
): CutOffPlan {
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
    changes: [{ path: file, content: setHtpasswdLine(doc, spec.user, lockedLine, file), mode: parseInt(spec.mode, 8) }],
    after: [`${spec.user} is locked out: no password gets in until the replacement`],
  };
  const probe = spec.probe;
  if (probe) {
    plan.verify = async () => {
      // Imported here, not at the top: the registry that `secrets check` loads holds this file.
      const { generatePassword } = await import('../../core/password.js');
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
