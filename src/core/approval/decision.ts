import type { ChangeRequest } from './request.js';

/** A pinned approver's public key, as read from the policy's approval.approvers files. */
export interface ApproverKey {
  /** Short name for messages: the key file's name without extension (keys/bob.asc → bob). */
  label: string;
  file: string;
  /** Primary key fingerprint, lower-case hex. */
  fingerprint: string;
  /** Key ids (16 hex, lower case) of the primary key and every subkey. */
  keyIds: string[];
  /** User ids as written in the key ("Bob <bob@example.org>"). */
  userIds: string[];
  /** When the key expires (null: never). */
  expires: Date | null;
  /** When the key was revoked (null: not revoked). */
  revoked: Date | null;
}

/** One detached signature, as the OpenPGP adapter read it. */
export type SignatureReading =
  | { status: 'unreadable' }
  | {
      status: 'read';
      /** Issuer key id (16 hex, lower case), and the issuer fingerprint when the signature carries it. */
      issuerKeyId: string;
      issuerFingerprint?: string;
      created: Date;
      /** Cryptographically valid over the request bytes with the matching pinned key (false when no key matched). */
      valid: boolean;
    };

/** A signature reading and the file it came from. */
export type SignatureFact = SignatureReading & { file: string };

export interface ApprovalRule {
  required: number;
  selfApproval: boolean;
}

export interface ApprovalFacts {
  request: ChangeRequest;
  now: Date;
  rule: ApprovalRule;
  approvers: ApproverKey[];
  signatures: SignatureFact[];
  /** Files whose fingerprint no longer matches the request (display paths). */
  changedFiles: string[];
  /** Differences between the request's plan and the current policy's (planDifferences). */
  planDifferences: string[];
  /** Audit seq of an earlier run of this same request, if any: an approval is used once. */
  executedAt?: number;
  /** The deployment the policy names. */
  deployment: string;
}

export interface ApprovalDecision {
  approved: boolean;
  /** The approvers whose signatures counted, in signature-file order. */
  counted: ApproverKey[];
  /** One line: what counted, or what is missing and why. */
  summary: string;
  /** Signatures that did not count and why (shown as notes when the request is approved anyway). */
  ignored: string[];
}

const day = (date: Date) => date.toISOString().slice(0, 10);
const shortFingerprint = (hex: string) => hex.toUpperCase();

function findApprover(approvers: ApproverKey[], keyId: string, fingerprint?: string): ApproverKey | undefined {
  return approvers.find(
    (key) =>
      (fingerprint !== undefined && key.fingerprint === fingerprint) ||
      key.fingerprint.endsWith(keyId) ||
      key.keyIds.includes(keyId),
  );
}

/** The OS user names an approver's key stands for: each user id's name and mail local part, lower-cased. */
export function namesOfKey(key: ApproverKey): string[] {
  const names = new Set<string>();
  for (const userId of key.userIds) {
    const mail = /<([^@>]+)@[^>]*>/.exec(userId);
    if (mail) names.add(mail[1]!.toLowerCase());
    const name = userId
      .replace(/<[^>]*>/, '')
      .replace(/\([^)]*\)/, '')
      .trim();
    if (name) names.add(name.toLowerCase());
    if (name.includes(' ')) names.add(name.split(/\s+/)[0]!.toLowerCase());
  }
  names.add(key.label.toLowerCase());
  return [...names];
}

/**
 * Whether an approver is the requester: the key the requester signed the request with, or the
 * approver whose key names the OS user who made it (the person behind `sudo`, not root).
 */
export function isRequester(key: ApproverKey, requester: ChangeRequest['requester']): boolean {
  if (requester.key !== null && requester.key.toLowerCase() === key.fingerprint) return true;
  const person = requester.user.split(' ')[0]!.toLowerCase();
  return person !== '' && namesOfKey(key).includes(person);
}

/**
 * The approval decision, pure: which signatures count (valid, by a pinned key that is neither
 * expired nor revoked now, one per approver, not the requester's unless self_approval), and what
 * blocks the run whatever the count (expired request, changed files, changed plan, used already).
 */
export function decideApproval(facts: ApprovalFacts): ApprovalDecision {
  const { request, rule } = facts;
  const problems: string[] = [];
  const counted: ApproverKey[] = [];
  for (const signature of facts.signatures) {
    if (signature.status === 'unreadable') {
      problems.push(`${signature.file} is not a readable OpenPGP signature (corrupted?)`);
      continue;
    }
    const key = findApprover(facts.approvers, signature.issuerKeyId, signature.issuerFingerprint);
    if (!key) {
      problems.push(
        `${signature.file} is signed by key ${shortFingerprint(signature.issuerFingerprint ?? signature.issuerKeyId)}, which is not a pinned approver`,
      );
      continue;
    }
    if (key.revoked) {
      problems.push(`${key.label}'s key was revoked ${day(key.revoked)}`);
      continue;
    }
    if (key.expires && key.expires <= facts.now) {
      problems.push(`${key.label}'s key expired ${day(key.expires)}`);
      continue;
    }
    if (!signature.valid) {
      problems.push(
        `${key.label}'s signature ${signature.file} does not match this request (made for another request, or the request changed)`,
      );
      continue;
    }
    if (signature.created.getTime() > facts.now.getTime() + 5 * 60_000) {
      problems.push(`${key.label}'s signature is dated in the future (${signature.created.toISOString()})`);
      continue;
    }
    if (counted.includes(key)) {
      problems.push(`${key.label} signed more than once (counted once)`);
      continue;
    }
    if (!rule.selfApproval && isRequester(key, request.requester)) {
      problems.push(`${key.label} made the request and cannot approve it (self_approval: false)`);
      continue;
    }
    counted.push(key);
  }

  const blockers: string[] = [];
  if (request.deployment !== facts.deployment)
    blockers.push(`the request is for deployment ${request.deployment}, not ${facts.deployment}`);
  if (new Date(request.expires) <= facts.now)
    blockers.push(`the request expired ${request.expires} (make a new one: secrets rotate ID --request FILE)`);
  for (const file of facts.changedFiles) blockers.push(`${file} changed since the request was made`);
  blockers.push(...facts.planDifferences);
  if (facts.executedAt !== undefined)
    blockers.push(`this request was already carried out (audit #${facts.executedAt})`);

  const enough = counted.length >= rule.required;
  const parts: string[] = [];
  if (!enough) {
    parts.push(`${counted.length} of ${rule.required} signatures`);
    parts.push(...problems);
    if (problems.length === 0) parts.push('no other signature found beside the request');
  }
  parts.push(...blockers);
  const approved = enough && blockers.length === 0;
  return {
    approved,
    counted,
    ignored: problems,
    summary: approved
      ? `approved by ${counted.map((key) => `${key.label} (${shortFingerprint(key.fingerprint)})`).join(', ')}`
      : parts.join('; '),
  };
}
