import { basename, resolve } from 'node:path';
import { decideApproval, type ApproverKey, type SignatureFact } from '../../core/approval/decision.js';
import { approvalOf } from '../../core/approval/rule.js';
import { parseRequest, planDifferences, requestDigest, type ChangeRequest } from '../../core/approval/request.js';
import { SecretsError } from '../../core/errors.js';
import type { Policy } from '../../core/policy.js';
import { selectSecrets } from '../../core/rotation/plan.js';
import type { Deps } from '../deps.js';
import { readAuditEntries } from '../state/audit-trail.js';
import { loadApprovers } from './approvers.js';
import { executedAt, requestedSecrets, signatureFilesBeside } from './change-request.js';

export interface VerifiedApproval {
  request: ChangeRequest;
  digest: string;
  counted: ApproverKey[];
  summary: string;
  /** Signatures beside the request that did not count, and why. */
  ignored: string[];
}

/** Reads a change request file; a missing file is one clear line. */
export async function readRequestFile(
  path: string,
  deps: Pick<Deps, 'files'>,
): Promise<{ text: string; bytes: Uint8Array; request: ChangeRequest; digest: string }> {
  let bytes: Uint8Array;
  try {
    bytes = await deps.files.readBytes(path);
  } catch {
    throw new SecretsError('request-missing', 'cannot read the change request', { where: path });
  }
  const text = new TextDecoder().decode(bytes);
  return { text, bytes, request: parseRequest(text, path), digest: requestDigest(bytes) };
}

/**
 * Everything `rotate --approved` checks before it touches a file: the signatures beside the
 * request (and any --signature), the pinned keys, who asked, the expiry, the files and the plan.
 * Throws `not-approved` (exit 3) with one line naming what is missing.
 */
export async function verifyApproval(
  policy: Policy,
  requestPath: string,
  extraSignatures: string[],
  deps: Deps,
): Promise<VerifiedApproval> {
  const approval = approvalOf(policy);
  if (!approval)
    throw new SecretsError(
      'approval-not-configured',
      'the policy has no approval: section, so nothing can be approved',
      {
        where: policy.path,
      },
    );
  const { bytes, request, digest } = await readRequestFile(requestPath, deps);
  const pgp = await deps.loadPgp();
  const approvers = await loadApprovers(policy, pgp, deps);

  const files = [...(await signatureFilesBeside(requestPath, deps)), ...extraSignatures.map((file) => resolve(file))];
  const signatures: SignatureFact[] = [];
  for (const file of [...new Set(files)]) {
    let signature: Uint8Array;
    try {
      signature = await deps.files.readBytes(file);
    } catch {
      throw new SecretsError('signature-missing', 'cannot read this signature file', { where: file });
    }
    const fact = await pgp.verifyDetached(
      bytes,
      signature,
      approvers.map((key) => key.armored),
    );
    signatures.push({ ...fact, file: basename(file) });
  }

  const known = new Set(policy.secrets.map((secret) => secret.id));
  const ids = request.secrets.map((secret) => secret.id).filter((id) => known.has(id));
  const current = await requestedSecrets(policy, selectSecrets(policy, ids, [], deps.clock.now()), deps, {
    create: false,
  });
  const differences = planDifferences(request, current);
  const changedFiles: string[] = [];
  if (differences.length === 0) {
    for (const planned of request.secrets) {
      const now = current.find((secret) => secret.id === planned.id)!;
      planned.files.forEach((file, index) => {
        if (now.files[index]?.fingerprint !== file.fingerprint) changedFiles.push(file.path);
      });
    }
  }
  const { entries } = await readAuditEntries(policy.stateDir, deps);
  const used = executedAt(entries, digest);
  const decision = decideApproval({
    request,
    // The real clock, never --as-of: an approval must not outlive its expiry by a flag.
    now: deps.clock.now(),
    rule: { required: approval.required, selfApproval: approval.self_approval },
    approvers,
    signatures,
    changedFiles: [...new Set(changedFiles)],
    planDifferences: differences,
    ...(used !== undefined ? { executedAt: used } : {}),
    deployment: policy.deployment,
  });
  if (!decision.approved)
    throw new SecretsError('not-approved', `not approved: ${decision.summary}`, {
      where: requestPath,
      hint: 'nothing was changed',
    });
  return { request, digest, counted: decision.counted, summary: decision.summary, ignored: decision.ignored };
}
