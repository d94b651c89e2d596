import { approvalOf } from '../core/approval/rule.js';
import { describeRequest } from '../core/approval/request.js';
import { SecretsError } from '../core/errors.js';
import type { Policy } from '../core/policy.js';
import { selectSecrets } from '../core/rotation/plan.js';
import { Secret } from '../core/secret.js';
import type { Deps } from './deps.js';
import { newRequest, requestText, requestedSecrets } from './approval/change-request.js';
import { signWithKey, type SigningKeyInput } from './approve.js';
import { appendAudit } from './state/audit-trail.js';

export interface RequestChangeInput {
  policy: Policy;
  ids: string[];
  requestPath: string;
  ticket?: string;
  /** The requester's private key: it signs the request, and marks whose signature is not an approval. */
  key?: SigningKeyInput;
  now: Date;
}

export interface RequestChangeOutcome {
  request: string;
  digest: string;
  expires: string;
  secrets: string[];
  signatureFile?: string;
}

/**
 * `secrets rotate ID… --request FILE`: writes the change request (the plan, the files'
 * fingerprints now, who, when, until when, the ticket) as canonical JSON and prints its digest.
 * Nothing is rotated; no value is read into it.
 */
export async function runRequestChange(input: RequestChangeInput, deps: Deps): Promise<RequestChangeOutcome> {
  const { policy } = input;
  const approval = approvalOf(policy);
  if (!approval)
    throw new SecretsError('approval-not-configured', 'the policy has no approval: section; rotate directly', {
      where: policy.path,
    });
  if (input.ids.length === 0)
    throw new SecretsError(
      'bad-option',
      '--request needs the ids of the secrets to rotate (secrets rotate ID… --request FILE)',
    );
  if (await deps.files.stat(input.requestPath))
    throw new SecretsError(
      'request-exists',
      'a file is already there; a request is never overwritten (its signatures would be orphaned)',
      {
        where: input.requestPath,
      },
    );
  const selected = selectSecrets(policy, input.ids, [], input.now);
  const secrets = await requestedSecrets(policy, selected, deps, { create: true });

  const pgp = input.key ? await deps.loadPgp() : undefined;
  let requesterKey: string | null = null;
  if (input.key && pgp) {
    let armored: Secret;
    try {
      armored = new Secret(await deps.files.readText(input.key.keyFile));
    } catch {
      throw new SecretsError('key-unreadable', 'cannot read the private key file', { where: input.key.keyFile });
    }
    requesterKey = await pgp.privateKeyFingerprint(armored);
  }
  const request = newRequest(policy, secrets, {
    user: deps.actor,
    key: requesterKey,
    ticket: input.ticket ?? null,
    // The real clock, never --as-of: a back-dated request would change how long it is valid.
    now: deps.clock.now(),
    validFor: approval.valid_for,
  });
  const { text, digest } = requestText(request);
  const bytes = new TextEncoder().encode(text);
  // Signed before the request is written: a wrong passphrase leaves no request behind.
  const signed = input.key && pgp ? await signWithKey(bytes, input.key, pgp, deps) : undefined;
  await deps.files.writeAtomic(input.requestPath, text, { mode: 0o644 });
  let signatureFile: string | undefined;
  if (signed) {
    signatureFile = `${input.requestPath}.${signed.fingerprint.toUpperCase()}.sig`;
    await deps.files.writeAtomic(signatureFile, signed.signature, { mode: 0o644 });
  }
  await appendAudit(
    policy.stateDir,
    {
      action: 'change-requested',
      details: {
        request: digest,
        ticket: request.ticket,
        secrets: request.secrets.map((secret) => secret.id),
        expires: request.expires,
        ...(requesterKey ? { requesterKey } : {}),
      },
    },
    deps,
  );
  deps.output.out(describeRequest(request, digest));
  deps.output.out(`written: ${input.requestPath}\n`);
  if (signatureFile)
    deps.output.out(
      `signed by you (${approval.self_approval ? 'counted as one approval: self_approval is true' : 'not counted as an approval: self_approval is false'}): ${signatureFile}\n`,
    );
  deps.output.out(
    `next: ${approval.required} approver(s) run secrets approve ${input.requestPath} --key THEIR-KEY, then secrets rotate --approved ${input.requestPath}\n`,
  );
  deps.output.out(`${digest}\n`);
  return {
    request: input.requestPath,
    digest,
    expires: request.expires,
    secrets: request.secrets.map((secret) => secret.id),
    ...(signatureFile ? { signatureFile } : {}),
  };
}
