import { canonicalJson } from '../core/approval/canonical-json.js';
import { describeRequest, requestDigest } from '../core/approval/request.js';
import { approvalOf } from '../core/approval/rule.js';
import { hashLine, splitAuditLines } from '../core/audit.js';
import { SecretsError, isSecretsError } from '../core/errors.js';
import type { Policy } from '../core/policy.js';
import type { Pgp } from '../core/ports.js';
import { Secret } from '../core/secret.js';
import type { Deps } from './deps.js';
import { loadApprovers } from './approval/approvers.js';
import { readRequestFile } from './approval/verify-approval.js';
import { appendAudit, readAuditEntries } from './state/audit-trail.js';

/** The default variable holding the private key's passphrase (another with --passphrase-env). */
export const DEFAULT_PASSPHRASE_ENV = 'SECRETS_KEY_PASSPHRASE';

export interface SigningKeyInput {
  /** Path of the armored private key (gpg --armor --export-secret-keys). */
  keyFile: string;
  /** The environment variable that holds its passphrase; a hidden prompt on a terminal otherwise. */
  passphraseEnv?: string;
}

/**
 * Signs `data` with the operator's private key. The passphrase comes from the named environment
 * variable, else from a hidden prompt (asked only when the key turns out to be protected).
 */
export async function signWithKey(
  data: Uint8Array,
  input: SigningKeyInput,
  pgp: Pgp,
  deps: Deps,
): Promise<{ signature: string; fingerprint: string; userIds: string[] }> {
  let armored: Secret;
  try {
    armored = new Secret(await deps.files.readText(input.keyFile));
  } catch {
    throw new SecretsError('key-unreadable', 'cannot read the private key file', { where: input.keyFile });
  }
  const envName = input.passphraseEnv ?? DEFAULT_PASSPHRASE_ENV;
  const fromEnv = deps.env[envName];
  const hint = `set ${envName}, or run on a terminal to be asked`;
  const sign = (passphrase?: Secret) =>
    pgp.signDetached(data, { armored, ...(passphrase ? { passphrase } : {}), passphraseHint: hint });
  try {
    return await sign(fromEnv ? new Secret(fromEnv) : undefined);
  } catch (error) {
    if (!isSecretsError(error) || error.code !== 'pgp-key-locked' || !deps.interactive) throw error;
    return sign(new Secret(await deps.prompts.password('Private key passphrase:')));
  }
}

export interface ApproveInput extends SigningKeyInput {
  requestPath: string;
  /** --yes: no confirmation prompt. */
  yes?: boolean;
}

export interface ApproveOutcome {
  request: string;
  digest: string;
  signatureFile: string;
  fingerprint: string;
}

/**
 * `secrets approve REQUEST --key KEYFILE`: shows the plan in words and writes an armored detached
 * signature beside the request as REQUEST.<fingerprint>.sig. Needs no policy: the approver may be
 * on another machine with only the request file.
 */
export async function runApprove(input: ApproveInput, deps: Deps): Promise<ApproveOutcome> {
  const { bytes, request, digest } = await readRequestFile(input.requestPath, deps);
  deps.output.out(describeRequest(request, digest));
  const now = deps.clock.now();
  if (new Date(request.expires) <= now)
    throw new SecretsError('request-expired', `the request expired ${request.expires}; nothing was signed`, {
      where: input.requestPath,
      hint: 'ask for a new request',
    });
  if (deps.interactive && !input.yes && !(await deps.prompts.confirm('sign this change request?', false)))
    throw new SecretsError('cancelled', 'not confirmed; nothing was signed');
  const pgp = await deps.loadPgp();
  const signed = await signWithKey(bytes, input, pgp, deps);
  const signatureFile = `${input.requestPath}.${signed.fingerprint.toUpperCase()}.sig`;
  // A signature is public: readable by the operator who runs the rotation.
  await deps.files.writeAtomic(signatureFile, signed.signature, { mode: 0o644 });
  deps.output.out(
    `signed by ${signed.fingerprint.toUpperCase()}${signed.userIds[0] ? ` (${signed.userIds[0]})` : ''}: ${signatureFile}\n`,
  );
  return { request: input.requestPath, digest, signatureFile, fingerprint: signed.fingerprint };
}

export const POST_INCIDENT_FORMAT = 'secrets-post-incident-approval/1';

export interface ApproveAfterInput extends SigningKeyInput {
  policy: Policy;
  /** The audit seq of the `revoked` entry. */
  revocation: number;
  yes?: boolean;
}

/**
 * `secrets approve --after SEQ --key KEYFILE`: a pinned approver's signed consent, after the fact,
 * to a revocation that could not wait. The signature covers the revocation's audit line (by its
 * hash), and is kept in the audit trail with the approver's fingerprint.
 */
export async function runApproveAfter(
  input: ApproveAfterInput,
  deps: Deps,
): Promise<{ seq: number; fingerprint: string }> {
  const { policy } = input;
  if (!approvalOf(policy))
    throw new SecretsError('approval-not-configured', 'the policy has no approval: section', { where: policy.path });
  const { text, entries } = await readAuditEntries(policy.stateDir, deps);
  const entry = entries.find((candidate) => candidate.seq === input.revocation);
  if (!entry || entry.action !== 'revoked')
    throw new SecretsError(
      'not-a-revocation',
      `audit #${input.revocation} is not a revocation${entry ? ` (it is "${entry.action}")` : ''}`,
      { hint: 'secrets log shows the revoked entries and their numbers' },
    );
  if (entry.details?.approval !== 'pending')
    throw new SecretsError('nothing-to-approve', `the revocation audit #${entry.seq} awaits no approval`);
  const line = splitAuditLines(text)[entry.seq - 1]!;
  const statement = `${canonicalJson({
    format: POST_INCIDENT_FORMAT,
    deployment: policy.deployment,
    revocation: {
      seq: entry.seq,
      secret: entry.secret ?? null,
      time: entry.time,
      by: entry.actor,
      line: `sha256:${hashLine(line)}`,
    },
  })}\n`;
  const reason = typeof entry.details?.reason === 'string' ? `, reason: ${entry.details.reason}` : '';
  const incident = typeof entry.details?.incident === 'string' ? `, incident ${entry.details.incident}` : '';
  deps.output.out(
    `post-incident approval of audit #${entry.seq}: ${entry.secret ?? '?'} revoked ${entry.time} by ${entry.actor}${incident}${reason}\n`,
  );
  if (deps.interactive && !input.yes && !(await deps.prompts.confirm('approve this revocation?', false)))
    throw new SecretsError('cancelled', 'not confirmed; nothing was recorded');

  const pgp = await deps.loadPgp();
  const data = new TextEncoder().encode(statement);
  const signed = await signWithKey(data, input, pgp, deps);
  const approvers = await loadApprovers(policy, pgp, deps);
  const fact = await pgp.verifyDetached(
    data,
    new TextEncoder().encode(signed.signature),
    approvers.map((key) => key.armored),
  );
  const approver = approvers.find((key) => key.fingerprint === signed.fingerprint);
  if (!approver || fact.status !== 'read' || !fact.valid)
    throw new SecretsError(
      'not-an-approver',
      `key ${signed.fingerprint.toUpperCase()} is not a pinned approver (approval.approvers); nothing was recorded`,
    );
  const now = deps.clock.now();
  if (approver.revoked || (approver.expires && approver.expires <= now))
    throw new SecretsError(
      'approver-key-invalid',
      `${approver.label}'s key is expired or revoked; nothing was recorded`,
    );
  const recorded = await appendAudit(
    policy.stateDir,
    {
      action: 'approved-after',
      ...(entry.secret ? { secret: entry.secret } : {}),
      details: {
        revocation: entry.seq,
        approver: approver.fingerprint,
        statement: requestDigest(statement),
        signature: signed.signature,
      },
    },
    deps,
  );
  deps.output.out(
    `recorded: audit #${recorded.seq}, revocation #${entry.seq} approved by ${approver.label} (${approver.fingerprint.toUpperCase()})\n`,
  );
  return { seq: recorded.seq, fingerprint: approver.fingerprint };
}
