import { randomBytes } from 'node:crypto';
import { basename, dirname, isAbsolute, join, relative } from 'node:path';
import { approvalRecordOf } from '../../core/approval/rule.js';
import {
  REQUEST_FORMAT,
  requestDigest,
  serializeRequest,
  type ChangeRequest,
  type RequestedSecret,
} from '../../core/approval/request.js';
import type { AuditEntry } from '../../core/audit.js';
import { addDuration, parseDuration } from '../../core/duration.js';
import { SecretsError } from '../../core/errors.js';
import type { Policy } from '../../core/policy.js';
import type { SelectedSecret } from '../../core/rotation/plan.js';
import { fingerprint } from '../../core/secret.js';
import type { Deps } from '../deps.js';
import { handlerFor } from '../../kinds/rotations.js';
import { FINGERPRINT_KEY_FILE, fingerprintKey } from '../state/audit-trail.js';

/** A path as the request shows it: relative to the deployment root when inside it. */
export function displayPath(policy: Policy, path: string): string {
  const rel = relative(policy.root, path);
  return rel === '' || rel.startsWith('..') || isAbsolute(rel) ? path : rel;
}

/**
 * Keyed fingerprints (HMAC-SHA-256 under the state folder's fingerprint key) of the files as
 * they are now. Keyed, because the request travels to other machines and a plain hash of a
 * one-line .env is a guessable derived form of the value in it.
 */
export async function fileFingerprints(
  policy: Policy,
  paths: string[],
  deps: Deps,
  options: { create: boolean },
): Promise<Array<{ path: string; absolute: string; fingerprint: string | null }>> {
  // Verifying never creates the key: a deployment without one cannot have made the request.
  if (!options.create && !(await deps.files.stat(join(policy.stateDir, FINGERPRINT_KEY_FILE))))
    throw new SecretsError(
      'request-other-deployment',
      'this deployment has no fingerprint key yet, so the request was made elsewhere; nothing was changed',
      { where: join(policy.stateDir, FINGERPRINT_KEY_FILE) },
    );
  const key = await fingerprintKey(policy.stateDir, deps);
  const result = [];
  for (const path of paths) {
    const text = await deps.files.readTextIfExists(path);
    result.push({
      path: displayPath(policy, path),
      absolute: path,
      fingerprint: text === undefined ? null : fingerprint(text, key),
    });
  }
  return result;
}

/** The plan of each selected secret, as the request records it (files with their fingerprints now). */
export async function requestedSecrets(
  policy: Policy,
  selected: SelectedSecret[],
  deps: Deps,
  options: { create: boolean },
): Promise<RequestedSecret[]> {
  const secrets: RequestedSecret[] = [];
  for (const { id, spec } of selected) {
    const outline = handlerFor(spec).outline(spec, policy);
    const files = await fileFingerprints(policy, outline.files, deps, options);
    secrets.push({
      id,
      kind: spec.kind,
      files: files.map(({ path, fingerprint: value }) => ({ path, fingerprint: value })),
      targets: outline.targets,
      hooks: outline.files.length > 0 ? spec.after_change : [],
      create: outline.source,
      test: outline.test,
    });
  }
  return secrets;
}

export function newRequest(
  policy: Policy,
  secrets: RequestedSecret[],
  options: { user: string; key: string | null; ticket: string | null; now: Date; validFor: string },
): ChangeRequest {
  const duration = parseDuration(options.validFor);
  if (!duration) throw new SecretsError('bad-duration', `approval.valid_for: not a duration: ${options.validFor}`);
  return {
    format: REQUEST_FORMAT,
    deployment: policy.deployment,
    secrets,
    requester: { user: options.user, key: options.key },
    created: options.now.toISOString(),
    expires: addDuration(options.now, duration).toISOString(),
    ticket: options.ticket,
    nonce: randomBytes(16).toString('hex'),
  };
}

export function requestText(request: ChangeRequest): { text: string; digest: string } {
  const text = serializeRequest(request);
  return { text, digest: requestDigest(text) };
}

/** The signature files beside a request: `REQUEST.*.sig` (ours are REQUEST.<fingerprint>.sig). */
export async function signatureFilesBeside(requestPath: string, deps: Deps): Promise<string[]> {
  const dir = dirname(requestPath);
  const prefix = `${basename(requestPath)}.`;
  const names = await deps.files.list(dir).catch(() => [] as string[]);
  return names
    .filter((name) => name.startsWith(prefix) && name.endsWith('.sig') && name.length > prefix.length + 4)
    .sort()
    .map((name) => join(dir, name));
}

/** The audit seq of an earlier rotation carried out under this request, if any. */
export function executedAt(entries: AuditEntry[], digest: string): number | undefined {
  return entries.find((entry) => entry.action === 'rotated' && approvalRecordOf(entry.details)?.request === digest)
    ?.seq;
}
